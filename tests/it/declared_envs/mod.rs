//! Declared environments (`--env`) against their oracles: the tag list of each equals, in
//! order, what packaging 26.4 (the suite's pinned `packaging`) computes on that platform,
//! and the markers are the values CPython reports there.
//!
//! How packaging is made to answer for a machine it does not run on: `sys_tags_as.py`
//! calls packaging's own `sys_tags()`, the function pip uses for its installed interpreter,
//! after replacing each probe packaging makes of the running interpreter and OS
//! (`sys.implementation`, `sys.version_info`, `sysconfig.get_config_var`, `platform.system`,
//! `sysconfig.get_platform`, `platform.mac_ver`, glibc and musl detection) with what that
//! machine's interpreter would answer. Every rule of the list (the ABI ladder, abi3t,
//! the manylinux and musllinux ladders with their legacy aliases, the macOS formats, the
//! `linux_*`-first order of packaging 26.3+, `compatible_tags`) is then packaging's code,
//! not a rebuilt composition of its public helpers. The answers below are the test's own
//! table of what CPython reports on each platform, independent of `wheelwright::platform`.
//!
//! A `universal2` Mac is answered with `platform.mac_ver()` machine `universal2`: no real
//! Mac reports that, so this is what packaging computes for `pip download --platform
//! macosx_10_9_universal2`, which passes the declared architecture to `mac_platforms`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use wheelwright::platform::{DeclaredEnvironment, Implementation, MacArch, Platform, WindowsArch};

use crate::support::test_venv;

const ORACLE: &str = include_str!("sys_tags_as.py");

const ENVIRONMENTS: &[&str] = &[
    "cp312-win_amd64",
    "cp38-win32",
    "cp311-win_arm64",
    "cp37-win_amd64",
    "cp313t-win_amd64",
    "pp310-win_amd64",
    "cp39-macosx_10_9_x86_64",
    "cp311-macosx_11_0_arm64",
    "cp310-macosx_10_9_universal2",
    "cp313-macosx_14_0_arm64",
    "cp312-macosx_13_0_x86_64",
    "cp38-manylinux_2_17_x86_64",
    "cp37-manylinux_2_17_x86_64",
    "cp310-manylinux_2_28_aarch64",
    "cp313t-manylinux_2_28_x86_64",
    "cp312-manylinux_2_31_armv7l",
    "cp311-manylinux_2_34_i686",
    "cp311-musllinux_1_1_x86_64",
    "cp312-musllinux_1_2_x86_64",
    "cp312-linux_x86_64",
    "pp310-manylinux_2_28_x86_64",
];

/// What the interpreter of that machine would tell packaging.
fn machine(env: &DeclaredEnvironment) -> Value {
    let (major, minor) = env.python;
    let (system, sysconfig_platform, mac_ver, glibc, musl) = match env.platform {
        Platform::Windows { arch } => {
            let plat = match arch {
                WindowsArch::X86 => "win32",
                WindowsArch::Amd64 => "win-amd64",
                WindowsArch::Arm64 => "win-arm64",
            };
            (
                "Windows",
                plat.to_string(),
                Value::Null,
                Value::Null,
                Value::Null,
            )
        }
        Platform::MacOs { major, minor, arch } => {
            let machine = match arch {
                MacArch::X86_64 => "x86_64",
                MacArch::Arm64 => "arm64",
                MacArch::Universal2 => "universal2",
            };
            let release = format!("{major}.{minor}");
            (
                "Darwin",
                format!("macosx-{release}-{machine}"),
                json!([release, machine]),
                Value::Null,
                Value::Null,
            )
        }
        Platform::Manylinux {
            glibc_major,
            glibc_minor,
            arch,
        } => (
            "Linux",
            format!("linux-{}", arch.as_str()),
            Value::Null,
            json!([glibc_major, glibc_minor]),
            Value::Null,
        ),
        Platform::Musllinux {
            musl_major,
            musl_minor,
            arch,
        } => (
            "Linux",
            format!("linux-{}", arch.as_str()),
            Value::Null,
            Value::Null,
            json!([musl_major, musl_minor]),
        ),
        Platform::Linux { arch } => (
            "Linux",
            format!("linux-{}", arch.as_str()),
            Value::Null,
            Value::Null,
            Value::Null,
        ),
    };
    let (implementation, ext_suffix) = match env.implementation {
        // Only PyPy's ABI tag is read from EXT_SUFFIX (`generic_tags`).
        Implementation::PyPy => ("pypy", format!(".pypy{major}{minor}-pp73-{system}.so")),
        Implementation::CPython => ("cpython", format!(".cpython-{major}{minor}-{system}.so")),
    };
    json!({
        "implementation": implementation,
        "python": [major, minor],
        "free_threaded": env.free_threaded,
        "system": system,
        "sysconfig_platform": sysconfig_platform,
        "mac_ver": mac_ver,
        "glibc": glibc,
        "musl": musl,
        "ext_suffix": ext_suffix,
    })
}

fn packaging_sys_tags(machines: &[Value]) -> Vec<Vec<String>> {
    let python = test_venv().join("bin/python");
    let mut child = Command::new(python)
        .args(["-I", "-c", ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(machines).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the packaging oracle failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn tags_equal_packaging_sys_tags_in_order() {
    let envs: Vec<DeclaredEnvironment> = ENVIRONMENTS.iter().map(|e| e.parse().unwrap()).collect();
    let machines: Vec<Value> = envs.iter().map(machine).collect();
    let expected = packaging_sys_tags(&machines);
    for (env, expected) in envs.iter().zip(&expected) {
        let ours: Vec<String> = env.tags().tags().iter().map(ToString::to_string).collect();
        let first_difference = ours
            .iter()
            .zip(expected.iter())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(expected.len()));
        assert!(
            ours.len() == expected.len() && first_difference == ours.len(),
            "{env}: {} tags, packaging {}; first difference at {first_difference}: ours {:?}, packaging {:?}",
            ours.len(),
            expected.len(),
            ours.get(first_difference),
            expected.get(first_difference),
        );
        assert!(!ours.is_empty());
    }
}

/// The markers against what CPython reports on each platform: `sys.platform`,
/// `platform.system()`, `os.name`, `platform.machine()` (Windows spells the machine as
/// `PROCESSOR_ARCHITECTURE` does; macOS and Linux as `uname -m`).
#[test]
fn markers_are_what_cpython_reports_there() {
    #[rustfmt::skip]
    let table: &[(&str, [&str; 7])] = &[
        // spelling: sys_platform, platform_system, os_name, platform_machine,
        //           implementation_name, platform_python_implementation, python_full_version
        ("cp312-win_amd64", ["win32", "Windows", "nt", "AMD64", "cpython", "CPython", "3.12.0"]),
        ("cp38-win32", ["win32", "Windows", "nt", "x86", "cpython", "CPython", "3.8.0"]),
        ("cp311-win_arm64", ["win32", "Windows", "nt", "ARM64", "cpython", "CPython", "3.11.0"]),
        ("cp39-macosx_10_9_x86_64", ["darwin", "Darwin", "posix", "x86_64", "cpython", "CPython", "3.9.0"]),
        ("cp311-macosx_11_0_arm64", ["darwin", "Darwin", "posix", "arm64", "cpython", "CPython", "3.11.0"]),
        ("cp310-macosx_10_9_universal2", ["darwin", "Darwin", "posix", "arm64", "cpython", "CPython", "3.10.0"]),
        ("cp310-manylinux_2_28_aarch64", ["linux", "Linux", "posix", "aarch64", "cpython", "CPython", "3.10.0"]),
        ("cp312-musllinux_1_2_x86_64", ["linux", "Linux", "posix", "x86_64", "cpython", "CPython", "3.12.0"]),
        ("cp312-linux_x86_64", ["linux", "Linux", "posix", "x86_64", "cpython", "CPython", "3.12.0"]),
        ("cp313t-manylinux_2_28_x86_64", ["linux", "Linux", "posix", "x86_64", "cpython", "CPython", "3.13.0"]),
        ("pp310-manylinux_2_28_x86_64", ["linux", "Linux", "posix", "x86_64", "pypy", "PyPy", "3.10.0"]),
    ];
    for (spelling, expected) in table {
        let env: DeclaredEnvironment = spelling.parse().unwrap();
        let m = env.markers();
        let ours = [
            m.sys_platform().to_string(),
            m.platform_system().to_string(),
            m.os_name().to_string(),
            m.platform_machine().to_string(),
            m.implementation_name().to_string(),
            m.platform_python_implementation().to_string(),
            m.python_full_version().to_string(),
        ];
        assert_eq!(ours, expected.map(str::to_string), "{spelling}");
        let (major, minor) = env.python;
        assert_eq!(m.python_version().to_string(), format!("{major}.{minor}"));
        assert_eq!(m.platform_release(), "", "{spelling}");
        assert_eq!(m.platform_version(), "", "{spelling}");
    }
}
