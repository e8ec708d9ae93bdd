//! Requires-Python (PEP 503 `data-requires-python`, or the file's own metadata when the
//! listing lacks it): a file that excludes an interpreter is neither present nor chosen for
//! it, and a range gives an old interpreter the newest version that serves it.

use super::memory::*;

fn listing() -> Memory {
    Memory::with_upstream(vec![
        file("ww_a-1.0-py3-none-any.whl"),
        requiring(">=3.9", file("ww_a-2.0-py3-none-any.whl")),
    ])
}

#[tokio::test]
async fn a_range_gives_an_old_interpreter_an_older_version() {
    let plan = plan(listing(), "ww-a>=1", &[cpython(8), cpython(11)]).await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 fetch 1.0 ww_a-1.0-py3-none-any.whl",
            "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl",
        ]
    );
    assert_eq!(
        reasons(&plan),
        [
            "upstream publishes a compatible wheel; the newest match 2.0 is not for Python 3.8.1",
            "upstream publishes a compatible wheel",
        ]
    );
}

#[tokio::test]
async fn a_pin_the_interpreter_cannot_use_is_unavailable_for_it() {
    let plan = plan(listing(), "ww-a==2.0", &[cpython(8), cpython(11)]).await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 unavailable 2.0 -",
            "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl",
        ]
    );
    assert_eq!(
        plan.jobs[0].reason,
        "requires-python `>=3.9` excludes cp38 (Python 3.8.1)"
    );
}

#[tokio::test]
async fn a_target_wheel_the_interpreter_cannot_use_is_not_present_for_it() {
    let mut memory = listing();
    memory.target = vec![requiring(">=3.9", file("ww_a-2.0-py3-none-any.whl"))];
    let plan = plan(memory, "ww-a==2.0", &[cpython(8), cpython(11)]).await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 unavailable 2.0 -",
            "cp311 present 2.0 ww_a-2.0-py3-none-any.whl",
        ]
    );
}

/// Upstream lists no Requires-Python; the 2.0 wheel's METADATA says `>=3.9`.
fn unlisted(downloads: bool) -> Memory {
    let mut memory = Memory::with_upstream(vec![
        file("ww_a-1.0-py3-none-any.whl"),
        file("ww_a-2.0-py3-none-any.whl"),
    ]);
    memory
        .metadata
        .insert("ww_a-2.0-py3-none-any.whl".into(), ">=3.9".into());
    memory.downloads = downloads;
    memory
}

#[tokio::test]
async fn requires_python_missing_from_the_listing_is_read_from_the_file() {
    let interpreters = [cpython(8), cpython(11)];
    let (plan, memory) = plan_with(
        unlisted(true),
        &requirements("ww-a>=1"),
        &[],
        &interpreters,
        &policy(),
    )
    .await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 fetch 1.0 ww_a-1.0-py3-none-any.whl",
            "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl",
        ]
    );
    // Each file is read once, however many interpreters ask.
    let reads: Vec<String> = memory
        .asked()
        .into_iter()
        .filter(|q| q.starts_with("read "))
        .collect();
    assert_eq!(
        reads,
        [
            "read ww_a-2.0-py3-none-any.whl",
            "read ww_a-1.0-py3-none-any.whl"
        ]
    );

    // Without a way to read remote files, they are accepted as listed.
    let (plan, memory) = plan_with(
        unlisted(false),
        &requirements("ww-a>=1"),
        &[],
        &interpreters,
        &policy(),
    )
    .await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 fetch 2.0 ww_a-2.0-py3-none-any.whl",
            "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl",
        ]
    );
    assert!(!memory.asked().iter().any(|q| q.starts_with("read ")));
}

#[tokio::test]
async fn remote_target_files_are_taken_as_listed() {
    // Reading them would mean downloading every present wheel on a no-op run.
    let mut memory = unlisted(true);
    memory.target = vec![file("ww_a-2.0-py3-none-any.whl")];
    let (plan, memory) = plan_with(
        memory,
        &requirements("ww-a==2.0"),
        &[],
        &[cpython(8)],
        &policy(),
    )
    .await;
    assert_eq!(rows(&plan), ["cp38 present 2.0 ww_a-2.0-py3-none-any.whl"]);
    assert_eq!(memory.asked(), ["target ww-a", "pure ww-a"]);
}

#[tokio::test]
async fn versions_all_plans_every_match_for_every_interpreter_and_says_which_cannot_use_it() {
    let all = crate::plan::Policy {
        versions: crate::plan::VersionPolicy::All,
        ..policy()
    };
    let (plan, _) = plan_with(
        listing(),
        &requirements("ww-a>=1"),
        &[],
        &[cpython(8), cpython(11)],
        &all,
    )
    .await;
    assert_eq!(
        rows(&plan),
        [
            "cp38 unavailable 2.0 -",
            "cp311 fetch 2.0 ww_a-2.0-py3-none-any.whl",
            "cp38 fetch 1.0 ww_a-1.0-py3-none-any.whl",
            "cp311 fetch 1.0 ww_a-1.0-py3-none-any.whl",
        ]
    );
    assert_eq!(
        plan.jobs[0].reason,
        "requires-python `>=3.9` excludes cp38 (Python 3.8.1)"
    );
}
