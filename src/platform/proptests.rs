//! Property tests of the `--env` spelling: every environment prints to a spelling that reads
//! back as itself, and arbitrary text parses or fails with an error, never a panic.

use proptest::prelude::*;

use super::*;

fn linux_arch() -> impl Strategy<Value = LinuxArch> {
    proptest::sample::select(LinuxArch::ALL.to_vec())
}

fn platform() -> impl Strategy<Value = Platform> {
    prop_oneof![
        proptest::sample::select(vec![
            WindowsArch::X86,
            WindowsArch::Amd64,
            WindowsArch::Arm64
        ])
        .prop_map(|arch| Platform::Windows { arch }),
        (
            10u16..30,
            0u16..20,
            proptest::sample::select(vec![MacArch::X86_64, MacArch::Arm64, MacArch::Universal2])
        )
            .prop_map(|(major, minor, arch)| {
                // arm64 Macs start at 11.
                let major = if arch == MacArch::Arm64 {
                    major.max(11)
                } else {
                    major
                };
                Platform::MacOs { major, minor, arch }
            }),
        (0u16..60, linux_arch()).prop_map(|(minor, arch)| Platform::Manylinux {
            glibc_major: 2,
            glibc_minor: minor.max(arch.lowest_manylinux_minor()),
            arch,
        }),
        (0u16..10, linux_arch()).prop_map(|(minor, arch)| Platform::Musllinux {
            musl_major: 1,
            musl_minor: minor,
            arch,
        }),
        linux_arch().prop_map(|arch| Platform::Linux { arch }),
    ]
}

fn environment() -> impl Strategy<Value = DeclaredEnvironment> {
    (any::<bool>(), 6u8..30, any::<bool>(), platform()).prop_map(
        |(pypy, minor, threaded, platform)| {
            let implementation = if pypy {
                Implementation::PyPy
            } else {
                Implementation::CPython
            };
            DeclaredEnvironment {
                implementation,
                python: (3, minor),
                free_threaded: threaded && !pypy && minor >= 13,
                platform,
            }
        },
    )
}

/// Spelling-shaped text: the pieces of real spellings, digits and separators.
fn spelling_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("cp".to_string()),
            Just("pp".to_string()),
            Just("t".to_string()),
            Just("-".to_string()),
            Just("_".to_string()),
            Just("win".to_string()),
            Just("macosx".to_string()),
            Just("manylinux".to_string()),
            Just("musllinux".to_string()),
            Just("linux".to_string()),
            Just("x86_64".to_string()),
            "[0-9]{1,6}",
            "\\PC{0,3}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    #[test]
    fn display_reads_back(env in environment()) {
        let text = env.to_string();
        let back: DeclaredEnvironment = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(back, env);
        prop_assert!(!env.tags().is_empty());
    }

    #[test]
    fn arbitrary_text_never_panics(text in spelling_text()) {
        if let Ok(env) = text.parse::<DeclaredEnvironment>() {
            prop_assert_eq!(env.to_string().parse::<DeclaredEnvironment>(), Ok(env));
            let _ = env.markers();
        }
    }
}
