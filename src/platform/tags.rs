//! The compatibility tags a declared environment accepts, in the order
//! `packaging.tags.sys_tags()` (packaging 26.4) yields them when it runs on that platform in
//! that interpreter. Written from packaging's documented behaviour and PEP 425 / 600 / 656;
//! the oracle test (`tests/it/declared_envs/`) runs packaging itself against this list.
//!
//! The order is: the interpreter's own ABI on every platform, then the stable ABI (abi3, or
//! abi3t for a free-threaded build), `none`, and the stable ABI of every older 3.x down to
//! 3.2 (PEP 384); then `py3X`/`py3`/older `py3x` with no ABI on every platform; then
//! `cp3X-none-any` (`pp3-none-any` for PyPy) and the pure-Python `py*-none-any` tags.

use crate::distribution::{Tag, TagSet};

use super::spelling::{DeclaredEnvironment, Implementation, LinuxArch, MacArch, Platform};

/// PyPy's extension ABI since PyPy 7.3, the `pp73` of `.pypy310-pp73-x86_64-linux-gnu.so`.
const PYPY_ABI: &str = "pp73";

impl DeclaredEnvironment {
    /// The supported tags, most preferred first, as a probed interpreter's.
    pub fn tags(&self) -> TagSet {
        let platforms = platform_tags(&self.platform);
        let (major, minor) = self.python;
        let own = self.interpreter_tag();
        let mut tags = Vec::new();
        let mut push = |python: &str, abi: &str, platforms: &[String]| {
            tags.extend(platforms.iter().map(|platform| Tag {
                python: python.to_string(),
                abi: abi.to_string(),
                platform: platform.clone(),
            }));
        };
        let any = ["any".to_string()];
        let compatible_interpreter = match self.implementation {
            Implementation::CPython => {
                push(&own, &self.cpython_abi(), &platforms);
                // packaging 26.1+: a free-threaded build loads abi3t, not abi3 (PEP 803).
                let stable = if self.free_threaded { "abi3t" } else { "abi3" };
                push(&own, stable, &platforms);
                push(&own, "none", &platforms);
                for older in (2..minor).rev() {
                    push(&format!("cp{major}{older}"), stable, &platforms);
                }
                own.clone()
            }
            Implementation::PyPy => {
                push(&own, &format!("pypy{major}{minor}_{PYPY_ABI}"), &platforms);
                push(&own, "none", &platforms);
                format!("pp{major}")
            }
        };
        let pythons = python_range(major, minor);
        for python in &pythons {
            push(python, "none", &platforms);
        }
        push(&compatible_interpreter, "none", &any);
        for python in &pythons {
            push(python, "none", &any);
        }
        TagSet::new(tags)
    }

    /// CPython's version-specific ABI: `t` for free-threaded (3.13+), `m` for pymalloc before
    /// 3.8 (every release build had it, and packaging assumes it where sysconfig is silent,
    /// as on Windows). Debug builds (`d`) are not declarable.
    fn cpython_abi(&self) -> String {
        let (major, minor) = self.python;
        let threaded = if self.free_threaded { "t" } else { "" };
        let pymalloc = if minor < 8 { "m" } else { "" };
        format!("cp{major}{minor}{threaded}{pymalloc}")
    }
}

/// `py3X`, `py3`, then every older `py3x` down to `py30`.
fn python_range(major: u8, minor: u8) -> Vec<String> {
    let mut pythons = vec![format!("py{major}{minor}"), format!("py{major}")];
    pythons.extend((0..minor).rev().map(|older| format!("py{major}{older}")));
    pythons
}

/// The platform tags, best first.
pub(super) fn platform_tags(platform: &Platform) -> Vec<String> {
    match *platform {
        Platform::Windows { .. } => vec![platform.to_string()],
        Platform::MacOs { major, minor, arch } => mac_platforms((major, minor), arch),
        Platform::Manylinux {
            glibc_major,
            glibc_minor,
            arch,
        } => {
            // packaging 26.3+ puts the native `linux_*` tag first (its issue 160): a wheel
            // built on the machine itself is the best fit there.
            let mut tags = vec![format!("linux_{}", arch.as_str())];
            tags.extend(manylinux_ladder(glibc_major, glibc_minor, arch));
            tags
        }
        Platform::Musllinux {
            musl_major,
            musl_minor,
            arch,
        } => {
            let mut tags = vec![format!("linux_{}", arch.as_str())];
            tags.extend(
                (0..=musl_minor)
                    .rev()
                    .map(|m| format!("musllinux_{musl_major}_{m}_{}", arch.as_str())),
            );
            tags
        }
        Platform::Linux { arch } => vec![format!("linux_{}", arch.as_str())],
    }
}

/// `manylinux_2_Y` for every glibc from the declared one down to the architecture's first
/// policy, each followed by its legacy alias (PEP 600: `manylinux2014` is `manylinux_2_17`,
/// `manylinux2010` is 2.12, `manylinux1` is 2.5) where one exists.
fn manylinux_ladder(major: u16, minor: u16, arch: LinuxArch) -> Vec<String> {
    let lowest = arch.lowest_manylinux_minor();
    let arch = arch.as_str();
    let mut tags = Vec::new();
    for glibc_minor in (lowest..=minor).rev() {
        tags.push(format!("manylinux_{major}_{glibc_minor}_{arch}"));
        let legacy = match glibc_minor {
            17 => Some("manylinux2014"),
            12 => Some("manylinux2010"),
            5 => Some("manylinux1"),
            _ => None,
        };
        if let Some(legacy) = legacy.filter(|_| major == 2) {
            tags.push(format!("{legacy}_{arch}"));
        }
    }
    tags
}

/// macOS: every release from the declared one down, with the binary formats each runs.
/// Before 11 the yearly release bumped the minor (10.15, 10.14, …); from 11 on it bumps the
/// major and only `X_0` is listed. An x86_64 Mac on 11+ still runs every 10.x format down to
/// 10.4; an arm64 one only the `universal2` wheels of 10.x (their Intel half sets the 10.x).
fn mac_platforms(version: (u16, u16), arch: MacArch) -> Vec<String> {
    let mut tags = Vec::new();
    let add = |tags: &mut Vec<String>, major: u16, minor: u16| {
        for format in mac_formats((major, minor), arch) {
            tags.push(format!("macosx_{major}_{minor}_{format}"));
        }
    };
    if version.0 == 10 {
        for minor in (0..=version.1).rev() {
            add(&mut tags, 10, minor);
        }
    } else {
        for major in (11..=version.0).rev() {
            add(&mut tags, major, 0);
        }
        for minor in (4..=16).rev() {
            if arch == MacArch::X86_64 {
                add(&mut tags, 10, minor);
            } else {
                tags.push(format!("macosx_10_{minor}_universal2"));
            }
        }
    }
    tags
}

/// The binary formats a macOS release accepts for an architecture, best first: the
/// architecture itself, then the fat formats that contain it (`intel` = i386 + x86_64,
/// `fat64` = x86_64 + ppc64, `fat3` = i386 + ppc + x86_64), `universal2` (x86_64 + arm64)
/// and `universal` (the older i386/ppc/x86_64 mixes). x86_64 exists from 10.4.
fn mac_formats(version: (u16, u16), arch: MacArch) -> &'static [&'static str] {
    match arch {
        MacArch::X86_64 if version < (10, 4) => &[],
        MacArch::X86_64 => &[
            "x86_64",
            "intel",
            "fat64",
            "fat3",
            "universal2",
            "universal",
        ],
        MacArch::Arm64 => &["arm64", "universal2"],
        MacArch::Universal2 => &["universal2"],
    }
}
