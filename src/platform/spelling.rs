//! The `--env` spelling `{implementation}{version}-{platform tag}` (`cp312-win_amd64`,
//! `pp310-manylinux_2_28_aarch64`, `cp313t-macosx_11_0_arm64`), read into typed values and
//! printed back. The platform part is a PEP 425 platform tag as wheels carry it (PEP 600
//! manylinux, PEP 656 musllinux); the first part is the interpreter tag PEP 425 names, with
//! the free-threaded ABI flag `t` (PEP 703) where CPython has one.

use std::fmt;
use std::str::FromStr;

/// The Python implementations a declared environment can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Implementation {
    CPython,
    PyPy,
}

impl Implementation {
    /// PEP 425's abbreviation, the start of the interpreter tag.
    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::CPython => "cp",
            Self::PyPy => "pp",
        }
    }
}

/// Windows' three wheel platforms, as `sysconfig.get_platform()` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WindowsArch {
    /// `win32`: 32-bit x86.
    X86,
    /// `win_amd64`.
    Amd64,
    /// `win_arm64`.
    Arm64,
}

/// The macOS binary formats a declared environment can ask for. `Universal2` is a fleet of
/// Intel and Apple-silicon Macs: only wheels that carry both halves serve all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MacArch {
    X86_64,
    Arm64,
    Universal2,
}

/// Linux machine names as `uname -m` (and so the wheel platform tag) spells them. These are
/// the architectures the manylinux policies (PEP 600, auditwheel) define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinuxArch {
    X86_64,
    I686,
    Aarch64,
    Armv7l,
    Ppc64,
    Ppc64le,
    S390x,
    Riscv64,
    Loongarch64,
}

impl LinuxArch {
    pub const ALL: [LinuxArch; 9] = [
        Self::X86_64,
        Self::I686,
        Self::Aarch64,
        Self::Armv7l,
        Self::Ppc64,
        Self::Ppc64le,
        Self::S390x,
        Self::Riscv64,
        Self::Loongarch64,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::I686 => "i686",
            Self::Aarch64 => "aarch64",
            Self::Armv7l => "armv7l",
            Self::Ppc64 => "ppc64",
            Self::Ppc64le => "ppc64le",
            Self::S390x => "s390x",
            Self::Riscv64 => "riscv64",
            Self::Loongarch64 => "loongarch64",
        }
    }

    /// The oldest manylinux level for this architecture: glibc 2.5 (`manylinux1`) on x86,
    /// 2.17 (`manylinux2014`, the first policy that defined them) elsewhere, as
    /// `packaging._manylinux` and PEP 599 have it.
    pub fn lowest_manylinux_minor(self) -> u16 {
        match self {
            Self::X86_64 | Self::I686 => 5,
            _ => 17,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|arch| arch.as_str() == text)
    }
}

/// The platform half of a declared environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Windows {
        arch: WindowsArch,
    },
    /// `macosx_{major}_{minor}_{arch}`: the oldest macOS the fleet runs.
    MacOs {
        major: u16,
        minor: u16,
        arch: MacArch,
    },
    /// `manylinux_2_{minor}_{arch}`: glibc 2.`minor` (PEP 600).
    Manylinux {
        glibc_major: u16,
        glibc_minor: u16,
        arch: LinuxArch,
    },
    /// `musllinux_1_{minor}_{arch}`: musl 1.`minor` (PEP 656).
    Musllinux {
        musl_major: u16,
        musl_minor: u16,
        arch: LinuxArch,
    },
    /// `linux_{arch}`: a Linux whose C library no policy names; only `linux_*` wheels.
    Linux {
        arch: LinuxArch,
    },
}

impl Platform {
    pub fn linux_arch(&self) -> Option<LinuxArch> {
        match *self {
            Self::Manylinux { arch, .. } | Self::Musllinux { arch, .. } | Self::Linux { arch } => {
                Some(arch)
            }
            Self::Windows { .. } | Self::MacOs { .. } => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Windows { arch } => f.write_str(match arch {
                WindowsArch::X86 => "win32",
                WindowsArch::Amd64 => "win_amd64",
                WindowsArch::Arm64 => "win_arm64",
            }),
            Self::MacOs { major, minor, arch } => {
                let arch = match arch {
                    MacArch::X86_64 => "x86_64",
                    MacArch::Arm64 => "arm64",
                    MacArch::Universal2 => "universal2",
                };
                write!(f, "macosx_{major}_{minor}_{arch}")
            }
            Self::Manylinux {
                glibc_major,
                glibc_minor,
                arch,
            } => write!(f, "manylinux_{glibc_major}_{glibc_minor}_{}", arch.as_str()),
            Self::Musllinux {
                musl_major,
                musl_minor,
                arch,
            } => write!(f, "musllinux_{musl_major}_{musl_minor}_{}", arch.as_str()),
            Self::Linux { arch } => write!(f, "linux_{}", arch.as_str()),
        }
    }
}

/// A target environment named rather than probed: an interpreter and a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclaredEnvironment {
    pub implementation: Implementation,
    /// `(major, minor)`; only Python 3.
    pub python: (u8, u8),
    /// A free-threaded CPython build (ABI flag `t`, PEP 703), 3.13 and newer.
    pub free_threaded: bool,
    pub platform: Platform,
}

impl DeclaredEnvironment {
    /// The name in reports: the spelling it was declared with (`cp312-win_amd64`).
    pub fn label(&self) -> String {
        self.to_string()
    }

    /// The interpreter tag (`cp312`, `pp310`); the free-threaded flag is the ABI's, not here.
    pub fn interpreter_tag(&self) -> String {
        format!(
            "{}{}{}",
            self.implementation.abbreviation(),
            self.python.0,
            self.python.1
        )
    }
}

impl fmt::Display for DeclaredEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threaded = if self.free_threaded { "t" } else { "" };
        write!(f, "{}{threaded}-{}", self.interpreter_tag(), self.platform)
    }
}

/// The oldest Python a declared environment may name: what the interpreter probe accepts.
pub const OLDEST_PYTHON: (u8, u8) = (3, 6);

/// A declared environment that does not read; `text` is the whole spelling as given (the
/// caller says where it came from: the flag, or `wheelwright.toml`'s line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid environment `{text}`: {problem}")]
pub struct EnvironmentSpellingError {
    pub text: String,
    pub problem: SpellingProblem,
}

/// What was wrong, and what was expected instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpellingProblem {
    #[error(
        "expected `{{implementation}}{{version}}-{{platform tag}}`, as `cp312-win_amd64` or `pp310-manylinux_2_28_aarch64`"
    )]
    Shape,
    #[error("unknown implementation in `{0}`: expected `cp` (CPython) or `pp` (PyPy)")]
    Implementation(String),
    #[error(
        "`{0}` is not a Python version: expected `3` and the minor version, as `312` for 3.12, 3.6 or newer"
    )]
    Version(String),
    #[error("free-threaded builds (`t`) exist only for CPython 3.13 and newer")]
    FreeThreaded,
    #[error(
        "unknown platform tag `{0}`: expected win32, win_amd64, win_arm64, macosx_X_Y_ARCH, manylinux_2_Y_ARCH, musllinux_1_Y_ARCH or linux_ARCH"
    )]
    Platform(String),
    #[error("unknown architecture `{found}` for {family}: expected {expected}")]
    Arch {
        found: String,
        family: &'static str,
        expected: &'static str,
    },
    #[error("`{0}`: expected a version as `{{major}}_{{minor}}` in the platform tag")]
    PlatformVersion(String),
    #[error("macOS {0}.{1}: expected macOS 10.0 or newer (arm64 from macOS 11)")]
    MacOsVersion(u16, u16),
    #[error(
        "manylinux_{major}_{minor}_{arch}: expected glibc 2.{lowest} or newer for {arch} (PEP 600)",
        arch = arch.as_str()
    )]
    GlibcVersion {
        major: u16,
        minor: u16,
        lowest: u16,
        arch: LinuxArch,
    },
    #[error("musllinux_{0}_{1}: expected musl 1.x (PEP 656)")]
    MuslVersion(u16, u16),
}

const LINUX_ARCHS: &str =
    "x86_64, i686, aarch64, armv7l, ppc64, ppc64le, s390x, riscv64 or loongarch64";

impl FromStr for DeclaredEnvironment {
    type Err = EnvironmentSpellingError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |problem| EnvironmentSpellingError {
            text: text.to_string(),
            problem,
        };
        // Tags are case-insensitive (packaging lowercases them); so is their spelling here.
        let lower = text.trim().to_ascii_lowercase();
        let (interpreter, platform) = lower
            .split_once('-')
            .filter(|(i, p)| !i.is_empty() && !p.is_empty())
            .ok_or_else(|| error(SpellingProblem::Shape))?;
        let (implementation, version) = if let Some(rest) = interpreter.strip_prefix("cp") {
            (Implementation::CPython, rest)
        } else if let Some(rest) = interpreter.strip_prefix("pp") {
            (Implementation::PyPy, rest)
        } else {
            return Err(error(SpellingProblem::Implementation(
                interpreter.to_string(),
            )));
        };
        let (version, free_threaded) = match version.strip_suffix('t') {
            Some(v) => (v, true),
            None => (version, false),
        };
        let python = parse_python(version)
            .ok_or_else(|| error(SpellingProblem::Version(version.to_string())))?;
        if free_threaded && (implementation != Implementation::CPython || python < (3, 13)) {
            return Err(error(SpellingProblem::FreeThreaded));
        }
        let platform = parse_platform(platform).map_err(error)?;
        Ok(Self {
            implementation,
            python,
            free_threaded,
            platform,
        })
    }
}

/// `312` → (3, 12): the major is one digit (PEP 425's `py_version_nodot`), the rest the minor.
fn parse_python(digits: &str) -> Option<(u8, u8)> {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (major, minor) = digits.split_at(1);
    if minor.len() > 1 && minor.starts_with('0') {
        return None; // `3012` would print back as `312`
    }
    let python = (major.parse().ok()?, minor.parse().ok()?);
    (python.0 == 3 && python >= OLDEST_PYTHON).then_some(python)
}

/// `11_0_arm64` → (11, 0, "arm64"); the architecture may itself hold `_` (`x86_64`).
fn version_and_arch(rest: &str) -> Result<(u16, u16, &str), SpellingProblem> {
    let bad = || SpellingProblem::PlatformVersion(rest.to_string());
    let mut parts = rest.splitn(3, '_');
    let (Some(major), Some(minor), Some(arch)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let number = |s: &str| {
        let canonical = s == "0" || !s.starts_with('0');
        s.parse::<u16>().ok().filter(|_| canonical)
    };
    match (number(major), number(minor)) {
        (Some(major), Some(minor)) => Ok((major, minor, arch)),
        _ => Err(bad()),
    }
}

fn linux_arch(found: &str, family: &'static str) -> Result<LinuxArch, SpellingProblem> {
    LinuxArch::parse(found).ok_or_else(|| SpellingProblem::Arch {
        found: found.to_string(),
        family,
        expected: LINUX_ARCHS,
    })
}

fn parse_platform(tag: &str) -> Result<Platform, SpellingProblem> {
    let windows = |arch| Ok(Platform::Windows { arch });
    match tag {
        "win32" => return windows(WindowsArch::X86),
        "win_amd64" => return windows(WindowsArch::Amd64),
        "win_arm64" => return windows(WindowsArch::Arm64),
        _ => {}
    }
    // PEP 600's legacy aliases name the same glibc levels (PEP 513, 571, 599).
    for (alias, glibc_minor) in [
        ("manylinux2014_", 17),
        ("manylinux2010_", 12),
        ("manylinux1_", 5),
    ] {
        if let Some(arch) = tag.strip_prefix(alias) {
            return manylinux(2, glibc_minor, linux_arch(arch, "manylinux")?);
        }
    }
    if let Some(rest) = tag.strip_prefix("macosx_") {
        let (major, minor, arch) = version_and_arch(rest)?;
        let arch = match arch {
            "x86_64" => MacArch::X86_64,
            "arm64" => MacArch::Arm64,
            "universal2" => MacArch::Universal2,
            _ => {
                return Err(SpellingProblem::Arch {
                    found: arch.to_string(),
                    family: "macOS",
                    expected: "x86_64, arm64 or universal2",
                });
            }
        };
        if major < 10 || (arch == MacArch::Arm64 && major < 11) {
            return Err(SpellingProblem::MacOsVersion(major, minor));
        }
        return Ok(Platform::MacOs { major, minor, arch });
    }
    if let Some(rest) = tag.strip_prefix("manylinux_") {
        let (major, minor, arch) = version_and_arch(rest)?;
        return manylinux(major, minor, linux_arch(arch, "manylinux")?);
    }
    if let Some(rest) = tag.strip_prefix("musllinux_") {
        let (major, minor, arch) = version_and_arch(rest)?;
        if major != 1 {
            return Err(SpellingProblem::MuslVersion(major, minor));
        }
        return Ok(Platform::Musllinux {
            musl_major: major,
            musl_minor: minor,
            arch: linux_arch(arch, "musllinux")?,
        });
    }
    if let Some(arch) = tag.strip_prefix("linux_") {
        return Ok(Platform::Linux {
            arch: linux_arch(arch, "linux")?,
        });
    }
    Err(SpellingProblem::Platform(tag.to_string()))
}

/// glibc 2.x only: a glibc 3 does not exist, and below the architecture's first policy no
/// manylinux wheel can exist.
fn manylinux(major: u16, minor: u16, arch: LinuxArch) -> Result<Platform, SpellingProblem> {
    let lowest = arch.lowest_manylinux_minor();
    if major != 2 || minor < lowest {
        return Err(SpellingProblem::GlibcVersion {
            major,
            minor,
            lowest,
            arch,
        });
    }
    Ok(Platform::Manylinux {
        glibc_major: major,
        glibc_minor: minor,
        arch,
    })
}
