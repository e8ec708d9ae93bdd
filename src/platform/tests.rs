//! The spelling's examples and errors, and spot checks of tags and markers (the full tag
//! lists are compared with packaging itself in `tests/it/declared_envs/`).

use super::*;

fn env(text: &str) -> DeclaredEnvironment {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

fn problem(text: &str) -> SpellingProblem {
    text.parse::<DeclaredEnvironment>().unwrap_err().problem
}

#[test]
fn the_issues_spellings_read() {
    assert_eq!(
        env("cp312-win_amd64"),
        DeclaredEnvironment {
            implementation: Implementation::CPython,
            python: (3, 12),
            free_threaded: false,
            platform: Platform::Windows {
                arch: WindowsArch::Amd64
            },
        }
    );
    assert_eq!(
        env("cp311-macosx_11_0_arm64").platform,
        Platform::MacOs {
            major: 11,
            minor: 0,
            arch: MacArch::Arm64
        }
    );
    assert_eq!(
        env("cp310-manylinux_2_28_aarch64").platform,
        Platform::Manylinux {
            glibc_major: 2,
            glibc_minor: 28,
            arch: LinuxArch::Aarch64
        }
    );
    assert_eq!(
        env("cp312-musllinux_1_2_x86_64").platform,
        Platform::Musllinux {
            musl_major: 1,
            musl_minor: 2,
            arch: LinuxArch::X86_64
        }
    );
    let pypy = env("pp310-linux_x86_64");
    assert_eq!(pypy.implementation, Implementation::PyPy);
    assert_eq!(pypy.label(), "pp310-linux_x86_64");
    let threaded = env("cp313t-win_arm64");
    assert!(threaded.free_threaded);
    assert_eq!(threaded.label(), "cp313t-win_arm64");
}

#[test]
fn legacy_manylinux_names_and_case_read_as_their_glibc() {
    assert_eq!(
        env("CP39-manylinux2014_x86_64").label(),
        "cp39-manylinux_2_17_x86_64"
    );
    assert_eq!(
        env("cp39-manylinux1_i686").label(),
        "cp39-manylinux_2_5_i686"
    );
    assert_eq!(
        env("cp39-manylinux2010_x86_64").label(),
        "cp39-manylinux_2_12_x86_64"
    );
}

#[test]
fn bad_spellings_say_what_was_expected() {
    assert_eq!(problem("cp312"), SpellingProblem::Shape);
    assert_eq!(problem("-win32"), SpellingProblem::Shape);
    assert_eq!(
        problem("ip312-win32"),
        SpellingProblem::Implementation("ip312".into())
    );
    assert_eq!(problem("cp27-win32"), SpellingProblem::Version("27".into()));
    assert_eq!(problem("cp35-win32"), SpellingProblem::Version("35".into()));
    assert_eq!(
        problem("cp3012-win32"),
        SpellingProblem::Version("3012".into())
    );
    assert_eq!(problem("cp312t-win32"), SpellingProblem::FreeThreaded);
    assert_eq!(problem("pp313t-win32"), SpellingProblem::FreeThreaded);
    assert_eq!(
        problem("cp312-win_x64"),
        SpellingProblem::Platform("win_x64".into())
    );
    assert!(matches!(
        problem("cp312-macosx_11_0_ppc"),
        SpellingProblem::Arch {
            family: "macOS",
            ..
        }
    ));
    assert_eq!(
        problem("cp312-macosx_10_15_arm64"),
        SpellingProblem::MacOsVersion(10, 15)
    );
    assert!(matches!(
        problem("cp312-manylinux_2_12_aarch64"),
        SpellingProblem::GlibcVersion { lowest: 17, .. }
    ));
    assert!(matches!(
        problem("cp312-manylinux_x_28_aarch64"),
        SpellingProblem::PlatformVersion(_)
    ));
    assert_eq!(
        problem("cp312-musllinux_2_0_x86_64"),
        SpellingProblem::MuslVersion(2, 0)
    );
    let error = "cp312-linux_sparc"
        .parse::<DeclaredEnvironment>()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid environment `cp312-linux_sparc`: unknown architecture `sparc` for linux: \
         expected x86_64, i686, aarch64, armv7l, ppc64, ppc64le, s390x, riscv64 or loongarch64"
    );
}

fn strings(env: &DeclaredEnvironment) -> Vec<String> {
    env.tags().tags().iter().map(ToString::to_string).collect()
}

#[test]
fn windows_has_one_platform_and_the_full_python_ladder() {
    let tags = strings(&env("cp38-win32"));
    assert_eq!(
        &tags[..4],
        [
            "cp38-cp38-win32",
            "cp38-abi3-win32",
            "cp38-none-win32",
            "cp37-abi3-win32"
        ]
    );
    assert_eq!(tags.iter().filter(|t| t.contains("-abi3-")).count(), 7); // cp38 … cp32
    assert_eq!(
        &tags[tags.len() - 3..],
        ["py32-none-any", "py31-none-any", "py30-none-any"]
    );
    assert!(tags.contains(&"cp38-none-any".to_string()));
}

#[test]
fn free_threaded_uses_abi3t_and_pypy_its_own_abi() {
    let tags = strings(&env("cp313t-win_amd64"));
    assert_eq!(tags[0], "cp313-cp313t-win_amd64");
    assert_eq!(tags[1], "cp313-abi3t-win_amd64");
    assert!(!tags.iter().any(|t| t.contains("-abi3-")));
    let tags = strings(&env("pp310-win_amd64"));
    assert_eq!(
        &tags[..3],
        [
            "pp310-pypy310_pp73-win_amd64",
            "pp310-none-win_amd64",
            "py310-none-win_amd64"
        ]
    );
    assert!(tags.contains(&"pp3-none-any".to_string()));
}

#[test]
fn macos_universal2_accepts_only_universal2() {
    let tags = env("cp312-macosx_10_9_universal2").tags();
    let platforms: Vec<&str> = tags
        .tags()
        .iter()
        .take(10)
        .map(|t| t.platform.as_str())
        .collect();
    assert_eq!(
        &platforms[..2],
        ["macosx_10_9_universal2", "macosx_10_8_universal2"]
    );
    assert!(tags.rank("cp312", "cp312", "macosx_10_9_x86_64").is_none());
}

#[test]
fn markers_are_cpythons_values_for_the_platform() {
    let markers = env("cp312-win_amd64").markers();
    assert_eq!(markers.sys_platform(), "win32");
    assert_eq!(markers.platform_system(), "Windows");
    assert_eq!(markers.os_name(), "nt");
    assert_eq!(markers.platform_machine(), "AMD64");
    assert_eq!(markers.python_full_version().to_string(), "3.12.0");
    assert_eq!(markers.platform_release(), "");
    let markers = env("pp310-musllinux_1_2_aarch64").markers();
    assert_eq!(markers.implementation_name(), "pypy");
    assert_eq!(markers.platform_python_implementation(), "PyPy");
    assert_eq!(markers.implementation_version().to_string(), "7.3.0");
    assert_eq!(markers.platform_machine(), "aarch64");
    assert_eq!(markers.sys_platform(), "linux");
}
