//! Which wheel each interpreter gets: its own ABI first, then abi3, then pure wheels, as
//! pip ranks the tags `packaging` gives the interpreter.

use super::memory::*;

#[tokio::test]
async fn each_interpreter_gets_the_wheel_its_tags_rank_first() {
    let listing = || {
        Memory::with_upstream(vec![
            file("ww_a-1.0-py3-none-any.whl"),
            file("ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl"),
            file("ww_a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
            file("ww_a-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"),
            file("ww_a-1.0-cp311-cp311-macosx_11_0_arm64.whl"),
            file("ww_a-1.0.tar.gz"),
        ])
    };
    let interpreters = [cpython(8), cpython(11), cpython(12)];
    let plan = plan(listing(), "ww-a==1.0", &interpreters).await;
    assert_eq!(
        rows(&plan),
        [
            // cp38 is older than the abi3 wheel's cp39: its own wheel.
            "cp38 fetch 1.0 ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl",
            "cp311 fetch 1.0 ww_a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            // No cp312 wheel: abi3 ranks above the pure wheel.
            "cp312 fetch 1.0 ww_a-1.0-cp39-abi3-manylinux_2_17_x86_64.whl",
        ]
    );
}

#[tokio::test]
async fn a_pure_wheel_serves_every_interpreter_and_an_sdist_the_rest() {
    let pure = Memory::with_upstream(vec![
        file("ww_a-1.0-py3-none-any.whl"),
        file("ww_a-1.0.tar.gz"),
    ]);
    let plan_ = plan(pure, "ww-a==1.0", &[cpython(8), cpython(13)]).await;
    assert_eq!(
        rows(&plan_),
        [
            "cp38 fetch 1.0 ww_a-1.0-py3-none-any.whl",
            "cp313 fetch 1.0 ww_a-1.0-py3-none-any.whl",
        ]
    );
    // Only a cp311 wheel: cp311 fetches it, cp38 builds from the sdist.
    let binary = Memory::with_upstream(vec![
        file("ww_a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        file("ww_a-1.0.tar.gz"),
    ]);
    let plan_ = plan(binary, "ww-a==1.0", &[cpython(8), cpython(11)]).await;
    assert_eq!(
        rows(&plan_),
        [
            "cp38 build 1.0 ww_a-1.0.tar.gz",
            "cp311 fetch 1.0 ww_a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        ]
    );
    assert_eq!(
        reasons(&plan_),
        [
            "upstream has only wheels cp38 cannot use; build from the sdist",
            "upstream publishes a compatible wheel",
        ]
    );
}

#[tokio::test]
async fn a_wheel_on_the_target_counts_only_for_interpreters_that_accept_it() {
    let mut listing = Memory::with_upstream(vec![
        file("ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl"),
        file("ww_a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
    ]);
    listing.target = vec![file("ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl")];
    let plan = plan(listing, "ww-a==1.0", &[cpython(8), cpython(11)]).await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 present 1.0 ww_a-1.0-cp38-cp38-manylinux_2_17_x86_64.whl",
            "cp311 fetch 1.0 ww_a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        ]
    );
}
