//! The PEP 508 marker environment of a declared environment: the values CPython (or PyPy)
//! reports on that platform (`sys.platform`, `platform.system()`, `os.name`,
//! `platform.machine()`), with the choices a machine we cannot ask forces on us:
//!
//! - `python_full_version` is `X.Y.0`, the lowest patch release, as uv does for
//!   `--python-version 3.12`: a closure solved for `.0` holds for every patch release of the
//!   fleet, one solved for a later patch could pick a release that `.0` rejects.
//! - `platform_release` and `platform_version` are empty, as uv's `--python-platform` sets
//!   them: they name a kernel build nobody can know for a fleet.
//! - Windows' `platform_machine` is CPython's `AMD64` / `x86` / `ARM64` (what
//!   `platform.machine()` returns there). uv's `--python-platform x86_64-pc-windows-msvc`
//!   says `x86_64`; a requirement written `platform_machine == "AMD64"` (the real value)
//!   would be dropped by it.
//! - A `universal2` macOS fleet gets `arm64`, as uv's `--python-platform macos` does.
//! - PyPy's `implementation_version` is `7.3.0`, the first release of the `pp73` ABI that
//!   every declared PyPy's tags name; the spelling carries no PyPy version.

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use super::spelling::{DeclaredEnvironment, Implementation, MacArch, Platform, WindowsArch};

/// The oldest PyPy of the `pp73` ABI (see the module documentation).
const PYPY_VERSION: &str = "7.3.0";

impl DeclaredEnvironment {
    /// The complete marker environment, as a probed interpreter's.
    pub fn markers(&self) -> MarkerEnvironment {
        let (major, minor) = self.python;
        let python_version = format!("{major}.{minor}");
        let python_full_version = format!("{major}.{minor}.0");
        let (implementation_name, platform_python_implementation, implementation_version) =
            match self.implementation {
                Implementation::CPython => ("cpython", "CPython", python_full_version.as_str()),
                Implementation::PyPy => ("pypy", "PyPy", PYPY_VERSION),
            };
        let (sys_platform, platform_system, os_name) = match self.platform {
            Platform::Windows { .. } => ("win32", "Windows", "nt"),
            Platform::MacOs { .. } => ("darwin", "Darwin", "posix"),
            Platform::Manylinux { .. } | Platform::Musllinux { .. } | Platform::Linux { .. } => {
                ("linux", "Linux", "posix")
            }
        };
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name,
            implementation_version,
            os_name,
            platform_machine: self.platform_machine(),
            platform_python_implementation,
            platform_release: "",
            platform_system,
            platform_version: "",
            python_full_version: &python_full_version,
            python_version: &python_version,
            sys_platform,
        })
        .expect("versions made of two or three integers are valid PEP 440")
    }

    /// `platform.machine()` on that platform.
    fn platform_machine(&self) -> &'static str {
        match self.platform {
            // Windows reports PROCESSOR_ARCHITECTURE's spelling.
            Platform::Windows { arch } => match arch {
                WindowsArch::X86 => "x86",
                WindowsArch::Amd64 => "AMD64",
                WindowsArch::Arm64 => "ARM64",
            },
            Platform::MacOs { arch, .. } => match arch {
                MacArch::X86_64 => "x86_64",
                MacArch::Arm64 | MacArch::Universal2 => "arm64",
            },
            // `uname -m`, which is what the wheel's `linux_*` tag spells too.
            Platform::Manylinux { arch, .. }
            | Platform::Musllinux { arch, .. }
            | Platform::Linux { arch } => arch.as_str(),
        }
    }
}
