//! Log excerpts as the tools print them (gcc, clang, GNU ld, lld, pkg-config, pkgconf, meson,
//! shells, setuptools, setuptools-rust, maturin).

use super::{Missing, ProvidedBy, missing_in_log, missing_in_requires};

fn header(name: &str) -> Option<Missing> {
    Some(Missing::Header(name.to_string()))
}

#[test]
fn gcc_missing_header_names_it_and_its_debian_package() {
    let log = "\
building '_cffi_backend' extension
gcc -pthread -fPIC -DFFI_BUILDING=1 -I/usr/include/ffi -I/usr/include/libffi -c src/c/_cffi_backend.c -o build/temp.linux-x86_64-cpython-311/src/c/_cffi_backend.o
src/c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory
   15 | #include <ffi.h>
      |          ^~~~~~~
compilation terminated.
error: command '/usr/bin/gcc' failed with exit code 1
";
    let missing = missing_in_log(log);
    assert_eq!(missing, header("ffi.h"));
    let missing = missing.unwrap();
    assert_eq!(missing.debian_package(), Some("libffi-dev"));
    assert_eq!(
        missing.to_string(),
        "missing header ffi.h (Debian package libffi-dev)"
    );
}

#[test]
fn clang_missing_header() {
    let log = "\
clang -fno-strict-overflow -Wsign-compare -DNDEBUG -O3 -fPIC -I/opt/py/include/python3.12 -c ext/_yaml.c -o build/ext/_yaml.o
ext/_yaml.h:2:10: fatal error: 'yaml.h' file not found
#include <yaml.h>
         ^~~~~~~~
1 error generated.
error: command '/usr/bin/clang' failed with exit code 1
";
    assert_eq!(missing_in_log(log), header("yaml.h"));
    assert_eq!(
        missing_in_log(log).unwrap().debian_package(),
        Some("libyaml-dev")
    );
}

#[test]
fn python_h_and_headers_in_subdirectories() {
    let log = "x.c:1:10: fatal error: Python.h: No such file or directory\n";
    assert_eq!(
        missing_in_log(log).unwrap().debian_package(),
        Some("python3-dev")
    );
    let log = "\
In file included from src/lxml/etree.c:96:
src/lxml/includes/etree_defs.h:14:10: fatal error: libxml/xmlversion.h: No such file or directory
";
    let missing = missing_in_log(log).unwrap();
    assert_eq!(missing, Missing::Header("libxml/xmlversion.h".into()));
    assert_eq!(missing.debian_package(), Some("libxml2-dev"));
    let log = "build/temp/_openssl.c:575:10: fatal error: openssl/opensslv.h: No such file or directory\n";
    assert_eq!(
        missing_in_log(log).unwrap().debian_package(),
        Some("libssl-dev")
    );
}

#[test]
fn an_unmapped_header_is_still_named() {
    let log = "x.c:1:10: fatal error: frobnicate.h: No such file or directory\n";
    let missing = missing_in_log(log).unwrap();
    assert_eq!(missing.provider(), None);
    assert_eq!(missing.to_string(), "missing header frobnicate.h");
}

#[test]
fn gnu_ld_lld_and_apple_ld_missing_libraries() {
    let old = "\
gcc -shared build/temp/_yaml.o -lyaml -o build/lib/yaml/_yaml.cpython-311-x86_64-linux-gnu.so
/usr/bin/ld: cannot find -lyaml
collect2: error: ld returned 1 exit status
error: command '/usr/bin/gcc' failed with exit code 1
";
    let new = "/usr/bin/ld: cannot find -lyaml: No such file or directory\ncollect2: error: ld returned 1 exit status\n";
    for log in [old, new] {
        let missing = missing_in_log(log).unwrap();
        assert_eq!(missing, Missing::Library("yaml".into()));
        assert_eq!(
            missing.to_string(),
            "missing library -lyaml (Debian package libyaml-dev)"
        );
    }
    let lld = "ld.lld: error: unable to find library -lssl\nclang: error: linker command failed with exit code 1 (use -v to see invocation)\n";
    assert_eq!(
        missing_in_log(lld).unwrap().debian_package(),
        Some("libssl-dev")
    );
    let apple =
        "ld: library not found for -lpq\nclang: error: linker command failed with exit code 1\n";
    assert_eq!(missing_in_log(apple), Some(Missing::Library("pq".into())));
}

#[test]
fn pkg_config_and_pkgconf_and_meson_dependencies() {
    let pkg_config = "\
Package libffi was not found in the pkg-config search path.
Perhaps you should add the directory containing `libffi.pc'
to the PKG_CONFIG_PATH environment variable
No package 'libffi' found
";
    let missing = missing_in_log(pkg_config).unwrap();
    assert_eq!(missing, Missing::PkgConfig("libffi".into()));
    assert_eq!(missing.debian_package(), Some("libffi-dev"));
    let pkgconf = "Package 'libxml-2.0', required by 'virtual:world', not found\n";
    assert_eq!(
        missing_in_log(pkgconf).unwrap().debian_package(),
        Some("libxml2-dev")
    );
    let meson = "\
Found pkg-config: NO
Found CMake: NO
Run-time dependency openblas found: NO (tried pkgconfig and cmake)

../meson.build:42:10: ERROR: Dependency \"openblas\" not found, tried pkgconfig and cmake

A full log can be found at /build/src/.mesonpy-abc/meson-logs/meson-log.txt
";
    assert_eq!(
        missing_in_log(meson),
        Some(Missing::PkgConfig("openblas".into()))
    );
}

#[test]
fn missing_programs_from_shells_python_setuptools_and_meson() {
    let cases = [
        ("/bin/sh: 1: pkg-config: not found\n", "pkg-config"),
        ("sh: pkg-config: command not found\n", "pkg-config"),
        ("bash: line 1: cmake: command not found\n", "cmake"),
        (
            "FileNotFoundError: [Errno 2] No such file or directory: 'pkg-config'\n",
            "pkg-config",
        ),
        (
            "error: command 'x86_64-linux-gnu-gcc' failed: No such file or directory\n",
            "x86_64-linux-gnu-gcc",
        ),
        (
            "unable to execute '/usr/bin/gcc': No such file or directory\n",
            "gcc",
        ),
        (
            "../meson.build:5:0: ERROR: Program 'cython' not found or not executable\n",
            "cython",
        ),
        (
            "Error: pg_config executable not found.\n\npg_config is required to build psycopg2 from source.\n",
            "pg_config",
        ),
        ("OSError: mysql_config not found\n", "mysql_config"),
        ("/bin/sh: 1: mysql_config: not found\n", "mysql_config"),
    ];
    for (log, name) in cases {
        assert_eq!(
            missing_in_log(log),
            Some(Missing::Program(name.into())),
            "{log}"
        );
    }
    assert_eq!(
        missing_in_log("sh: 1: pkg-config: not found\n")
            .unwrap()
            .debian_package(),
        Some("pkgconf")
    );
    assert_eq!(
        missing_in_log("Error: pg_config executable not found.\n")
            .unwrap()
            .debian_package(),
        Some("libpq-dev")
    );
}

#[test]
fn a_missing_data_file_is_no_missing_program() {
    let log = "FileNotFoundError: [Errno 2] No such file or directory: 'README.rst'\n";
    assert_eq!(missing_in_log(log), None);
}

#[test]
fn setuptools_rust_and_maturin_without_cargo() {
    let setuptools_rust = "\
running build_rust
error: can't find Rust compiler

If you are using an outdated pip version, it is possible a prebuilt wheel is available for this package but pip is not able to install from it.
";
    let maturin = "\
Cargo, the Rust package manager, is not installed or is not on PATH.
This package requires Rust and Cargo to compile extensions. Install it through
the system's package manager or via https://rustup.rs/
";
    let shell = "/bin/sh: 1: cargo: not found\n";
    for log in [setuptools_rust, maturin, shell] {
        let missing = missing_in_log(log).unwrap();
        assert_eq!(missing, Missing::RustCompiler, "{log}");
        assert_eq!(missing.provider(), Some(ProvidedBy::RustToolchain));
        assert_eq!(
            missing.to_string(),
            "missing Rust compiler (give the build a Rust toolchain: --build-path ~/.cargo/bin)"
        );
    }
}

#[test]
fn maturin_asking_for_puccinialin_means_no_rust_compiler() {
    let asked: Vec<pep508_rs::Requirement> = vec!["puccinialin".parse().unwrap()];
    assert_eq!(missing_in_requires(&asked), Some(Missing::RustCompiler));
    let plain: Vec<pep508_rs::Requirement> = vec!["cffi".parse().unwrap()];
    assert_eq!(missing_in_requires(&plain), None);
}

#[test]
fn the_last_missing_thing_wins_and_quiet_logs_have_none() {
    let log = "\
Package libffi was not found in the pkg-config search path.
x.c:1:10: fatal error: ffi.h: No such file or directory
";
    assert_eq!(missing_in_log(log), header("ffi.h"));
    assert_eq!(
        missing_in_log("running build\nchecking for gcc... yes\n"),
        None
    );
    assert_eq!(missing_in_log(""), None);
}

#[test]
fn names_from_the_log_are_bounded_and_plain() {
    let long = format!(
        "x.c:1:10: fatal error: {}.h: No such file or directory\n",
        "a".repeat(500)
    );
    assert_eq!(missing_in_log(&long), None);
    let odd = "x.c:1:10: fatal error: a\x1b[31mb.h: No such file or directory\n";
    assert_eq!(missing_in_log(odd), None);
}

#[test]
fn serialises_as_kind_and_name() {
    let json = serde_json::to_value(Missing::Header("ffi.h".into())).unwrap();
    assert_eq!(json, serde_json::json!({"kind": "header", "name": "ffi.h"}));
    let json = serde_json::to_value(Missing::RustCompiler).unwrap();
    assert_eq!(json, serde_json::json!({"kind": "rust-compiler"}));
}

proptest::proptest! {
    #![proptest_config(crate::proptest_config())]

    /// Whatever a build prints, reading it never panics and a name taken from it is short and
    /// plain (it ends up in reports and on terminals).
    #[test]
    fn any_log_gives_at_most_a_plain_bounded_name(
        lines in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::string::string_regex(".{0,80}").unwrap(),
                proptest::string::string_regex(
                    "[a-z/]{0,10}\\.c:1:2: fatal error: .{0,30}: No such file or directory"
                ).unwrap(),
                proptest::string::string_regex("/usr/bin/ld: cannot find -l.{0,30}").unwrap(),
                proptest::string::string_regex("sh: 1: .{0,30}: not found").unwrap(),
                proptest::string::string_regex("ERROR: Dependency \".{0,30}\" not found").unwrap(),
            ],
            0..8,
        )
    ) {
        let log = lines.join("\n");
        let name = match missing_in_log(&log) {
            Some(Missing::Header(n) | Missing::Library(n) | Missing::PkgConfig(n)
                | Missing::Program(n)) => n,
            Some(Missing::RustCompiler) | None => String::new(),
        };
        proptest::prop_assert!(name.len() <= 120, "{name:?}");
        proptest::prop_assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || "._+-/".contains(c)),
            "{name:?}"
        );
    }
}
