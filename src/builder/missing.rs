//! What a failed build lacked, read from its log: a C header, a library the linker wanted, a
//! pkg-config package, a program, or a Rust compiler. The failure's summary line names it and,
//! where the mapping is known and cheap, the Debian package that usually provides it. The
//! full log stays where it is; this only reads it.
//!
//! The messages recognised are the tools' own:
//! * gcc `x.c:15:10: fatal error: ffi.h: No such file or directory`, clang
//!   `x.c:1:10: fatal error: 'ffi.h' file not found`;
//! * GNU ld `/usr/bin/ld: cannot find -lyaml` (newer binutils add `: No such file or
//!   directory`), lld `ld.lld: error: unable to find library -lyaml`, Apple ld
//!   `ld: library not found for -lssl`;
//! * pkg-config `Package libffi was not found in the pkg-config search path.`, pkgconf
//!   `Package 'libffi', required by 'virtual:world', not found`, meson
//!   `ERROR: Dependency "libffi" not found, tried pkgconfig`;
//! * a shell's `sh: 1: pkg-config: not found` / `bash: cmake: command not found`, Python's
//!   `FileNotFoundError: [Errno 2] No such file or directory: 'pkg-config'`, setuptools'
//!   `error: command 'gcc' failed: No such file or directory`, distutils'
//!   `unable to execute 'gcc': No such file or directory`, meson's
//!   `Program 'cython' not found or not executable`, psycopg2's `pg_config executable not
//!   found`, mysqlclient's `mysql_config not found`;
//! * setuptools-rust's `error: can't find Rust compiler`, maturin's `Cargo, the Rust package
//!   manager, is not installed or is not on PATH`, and maturin asking for `puccinialin`
//!   from `get_requires_for_build_wheel` (it does when it finds no cargo on `PATH`; that
//!   package would download a compiler, which the sandbox forbids).
//!
//! When a log names several things, the last one wins: it is what the build gave up on.

use pep508_rs::Requirement;
use serde::Serialize;

/// Longest name kept from a log line; names come from outside and end up in reports.
const MAX_NAME: usize = 120;

/// What the build lacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum Missing {
    /// A C/C++ header, as the `#include` named it (`ffi.h`, `libxml/xmlversion.h`).
    Header(String),
    /// A library the linker was asked for with `-l` (`yaml` for `-lyaml`).
    Library(String),
    /// A pkg-config package (also what meson looks up as a dependency).
    PkgConfig(String),
    /// A program that was not on `PATH`.
    Program(String),
    /// No Rust compiler (rustc/cargo) was visible to the build.
    RustCompiler,
}

/// Who usually provides a missing thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvidedBy {
    /// A Debian (and Ubuntu) package.
    Debian(&'static str),
    /// A Rust toolchain given to the sandbox.
    RustToolchain,
}

impl Missing {
    pub fn provider(&self) -> Option<ProvidedBy> {
        match self {
            Missing::Header(name) => debian_for_header(name).map(ProvidedBy::Debian),
            Missing::Library(name) => debian_for_library(name).map(ProvidedBy::Debian),
            Missing::PkgConfig(name) => debian_for_pkg_config(name).map(ProvidedBy::Debian),
            Missing::Program(name) if is_rust_program(name) => Some(ProvidedBy::RustToolchain),
            Missing::Program(name) => debian_for_program(name).map(ProvidedBy::Debian),
            Missing::RustCompiler => Some(ProvidedBy::RustToolchain),
        }
    }

    /// The Debian package, when the mapping is known.
    pub fn debian_package(&self) -> Option<&'static str> {
        match self.provider() {
            Some(ProvidedBy::Debian(package)) => Some(package),
            _ => None,
        }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Header(name) => write!(f, "missing header {name}")?,
            Missing::Library(name) => write!(f, "missing library -l{name}")?,
            Missing::PkgConfig(name) => write!(f, "missing pkg-config package {name}")?,
            Missing::Program(name) => write!(f, "missing program {name}")?,
            Missing::RustCompiler => f.write_str("missing Rust compiler")?,
        }
        match self.provider() {
            Some(ProvidedBy::Debian(package)) => write!(f, " (Debian package {package})"),
            Some(ProvidedBy::RustToolchain) => {
                f.write_str(" (give the build a Rust toolchain: --build-path ~/.cargo/bin)")
            }
            None => Ok(()),
        }
    }
}

/// The last missing thing `log` names, if any.
pub fn missing_in_log(log: &str) -> Option<Missing> {
    log.lines().rev().find_map(missing_in_line)
}

/// A Rust compiler, when the back end's `get_requires_for_build_wheel` asked for
/// `puccinialin` (maturin's way of saying it found no cargo).
pub(super) fn missing_in_requires(requires: &[Requirement]) -> Option<Missing> {
    requires
        .iter()
        .any(|r| r.name.as_ref() == "puccinialin")
        .then_some(Missing::RustCompiler)
}

fn missing_in_line(line: &str) -> Option<Missing> {
    let line = line.trim();
    header(line)
        .map(Missing::Header)
        .or_else(|| library(line).map(Missing::Library))
        .or_else(|| pkg_config(line).map(Missing::PkgConfig))
        .or_else(|| rust(line).then_some(Missing::RustCompiler))
        .or_else(|| {
            program(line).map(|name| {
                if is_rust_program(&name) {
                    Missing::RustCompiler
                } else {
                    Missing::Program(name)
                }
            })
        })
}

fn header(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("fatal error: ")?;
    // gcc: `ffi.h: No such file or directory`; clang: `'ffi.h' file not found`.
    if let Some(name) = rest.strip_suffix(": No such file or directory") {
        return clean_name(name);
    }
    if let Some(name) = rest.strip_suffix(" file not found") {
        return clean_name(name.trim_matches(['\'', '"', '<', '>']));
    }
    None
}

fn library(line: &str) -> Option<String> {
    let after = [
        "cannot find -l",
        "unable to find library -l",
        "library not found for -l",
    ]
    .iter()
    .find_map(|marker| line.split_once(marker).map(|(_, rest)| rest))?;
    let name = after
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .next()?;
    clean_name(name)
}

fn pkg_config(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("Package ") {
        if let Some(name) = rest.strip_suffix(" was not found in the pkg-config search path.") {
            return clean_name(name);
        }
        // pkgconf: `Package 'libffi', required by 'virtual:world', not found`.
        if rest.ends_with("not found")
            && let Some(name) = rest.split(',').next()
        {
            return clean_name(name.trim_matches('\''));
        }
    }
    // meson: `../meson.build:10:0: ERROR: Dependency "libffi" not found, tried pkgconfig`.
    let (_, rest) = line.split_once("Dependency \"")?;
    let (name, tail) = rest.split_once('"')?;
    tail.trim_start()
        .starts_with("not found")
        .then(|| clean_name(name))?
}

fn rust(line: &str) -> bool {
    line.contains("can't find Rust compiler")
        || line.contains("Cargo, the Rust package manager, is not installed")
}

fn program(line: &str) -> Option<String> {
    // dash `sh: 1: pkg-config: not found`, bash `bash: line 1: cmake: command not found`.
    for suffix in [": command not found", ": not found"] {
        if let Some(head) = line.strip_suffix(suffix)
            && (head.starts_with("sh:") || head.starts_with("bash:") || head.starts_with('/'))
        {
            return head.rsplit(": ").next().and_then(clean_name);
        }
    }
    // Python's FileNotFoundError from subprocess, setuptools' and distutils' messages.
    for (marker, end) in [
        ("No such file or directory: '", "'"),
        ("error: command '", "' failed: No such file or directory"),
        ("unable to execute '", "': No such file or directory"),
        ("Program '", "' not found"),
    ] {
        if let Some((_, rest)) = line.split_once(marker)
            && let Some((name, _)) = rest.split_once(end)
            && let Some(name) = clean_name(name)
        {
            // A FileNotFoundError for a data file is no missing program.
            if marker.starts_with("No such file") && !looks_like_program(&name) {
                continue;
            }
            return Some(program_name(&name));
        }
    }
    // psycopg2 `Error: pg_config executable not found.`, mysqlclient `mysql_config not found`.
    for name in ["pg_config", "mysql_config"] {
        if line.contains(&format!("{name} executable not found"))
            || line.ends_with(&format!("{name} not found"))
        {
            return Some(name.to_string());
        }
    }
    None
}

/// `/usr/bin/gcc` → `gcc`: what the user has to install is the program, not the path.
fn program_name(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}

/// A name a program has (no extension, or a known tool), not a data file.
fn looks_like_program(name: &str) -> bool {
    let base = program_name(name);
    (!base.is_empty() && !base.contains('.') && debian_for_program(&base).is_some())
        || is_rust_program(&base)
}

fn is_rust_program(name: &str) -> bool {
    matches!(program_name(name).as_str(), "cargo" | "rustc")
}

/// A name from a log line, if it looks like one: bounded, printable, no spaces.
fn clean_name(name: &str) -> Option<String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-/".contains(c));
    ok.then(|| name.to_string())
}

fn debian_for_header(name: &str) -> Option<&'static str> {
    let top = name.split('/').next().unwrap_or(name);
    Some(match (top, name) {
        (_, "ffi.h" | "ffitarget.h") => "libffi-dev",
        (_, "Python.h" | "pyconfig.h") => "python3-dev",
        (_, "yaml.h") => "libyaml-dev",
        ("openssl", _) => "libssl-dev",
        (_, "zlib.h" | "zconf.h") => "zlib1g-dev",
        ("libxml", _) => "libxml2-dev",
        ("libxslt" | "libexslt", _) => "libxslt1-dev",
        (_, "libpq-fe.h" | "pg_config.h") => "libpq-dev",
        ("mysql", _) | (_, "mysql.h") => "default-libmysqlclient-dev",
        ("gssapi" | "krb5", _) | (_, "krb5.h" | "gssapi.h") => "libkrb5-dev",
        (_, "bzlib.h") => "libbz2-dev",
        (_, "lzma.h") => "liblzma-dev",
        (_, "sqlite3.h") => "libsqlite3-dev",
        (_, "jpeglib.h") => "libjpeg-dev",
        (_, "png.h") => "libpng-dev",
        (_, "ldap.h" | "lber.h") => "libldap-dev",
        ("sasl", _) => "libsasl2-dev",
        ("curl", _) => "libcurl4-openssl-dev",
        ("readline", _) => "libreadline-dev",
        ("uuid", _) => "uuid-dev",
        (_, "gmp.h") => "libgmp-dev",
        (_, "xmlsec.h") | ("xmlsec", _) => "libxmlsec1-dev",
        _ => return None,
    })
}

fn debian_for_library(name: &str) -> Option<&'static str> {
    Some(match name {
        "ffi" => "libffi-dev",
        "yaml" => "libyaml-dev",
        "ssl" | "crypto" => "libssl-dev",
        "z" => "zlib1g-dev",
        "xml2" => "libxml2-dev",
        "xslt" | "exslt" => "libxslt1-dev",
        "pq" => "libpq-dev",
        "mysqlclient" => "default-libmysqlclient-dev",
        "krb5" | "gssapi_krb5" => "libkrb5-dev",
        "bz2" => "libbz2-dev",
        "lzma" => "liblzma-dev",
        "sqlite3" => "libsqlite3-dev",
        "jpeg" => "libjpeg-dev",
        "png" | "png16" => "libpng-dev",
        "ldap" | "lber" => "libldap-dev",
        "sasl2" => "libsasl2-dev",
        "curl" => "libcurl4-openssl-dev",
        "uuid" => "uuid-dev",
        "gmp" => "libgmp-dev",
        "openblas" => "libopenblas-dev",
        _ if name.starts_with("python3") => "python3-dev",
        _ => return None,
    })
}

fn debian_for_pkg_config(name: &str) -> Option<&'static str> {
    Some(match name {
        "libffi" => "libffi-dev",
        "yaml-0.1" => "libyaml-dev",
        "openssl" | "libssl" | "libcrypto" => "libssl-dev",
        "zlib" => "zlib1g-dev",
        "libxml-2.0" => "libxml2-dev",
        "libxslt" | "libexslt" => "libxslt1-dev",
        "libpq" => "libpq-dev",
        "mysqlclient" => "default-libmysqlclient-dev",
        "krb5" | "krb5-gssapi" => "libkrb5-dev",
        "sqlite3" => "libsqlite3-dev",
        "libjpeg" => "libjpeg-dev",
        "libpng" => "libpng-dev",
        "xmlsec1" => "libxmlsec1-dev",
        "openblas" => "libopenblas-dev",
        _ if name.starts_with("python3") || name.starts_with("python-3") => "python3-dev",
        _ => return None,
    })
}

fn debian_for_program(name: &str) -> Option<&'static str> {
    Some(match name {
        "gcc" | "cc" | "x86_64-linux-gnu-gcc" | "aarch64-linux-gnu-gcc" => "gcc",
        "g++" | "c++" | "x86_64-linux-gnu-g++" | "aarch64-linux-gnu-g++" => "g++",
        "gfortran" => "gfortran",
        "make" => "make",
        "cmake" => "cmake",
        "ninja" => "ninja-build",
        "pkg-config" | "pkgconf" => "pkgconf",
        "swig" => "swig",
        "patchelf" => "patchelf",
        "git" => "git",
        "pg_config" => "libpq-dev",
        "mysql_config" => "default-libmysqlclient-dev",
        "krb5-config" => "libkrb5-dev",
        "xml2-config" => "libxml2-dev",
        "xslt-config" => "libxslt1-dev",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
