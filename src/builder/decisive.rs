//! The one line of a failed build's log that says why it failed, for the summary line and
//! the JSON `detail` (the tail stays in JUnit, the whole log in the cache dir).
//!
//! Candidates, as a reader of a build log looks for them:
//! * a compiler's `fatal error: ...` (gcc/clang: `x.c:15:10: fatal error: ffi.h: No such file`);
//! * the exception line that ends a Python traceback (`ModuleNotFoundError: No module ...`);
//! * a linker's `cannot find -lyaml` (GNU ld), `unable to find library -lyaml` (lld),
//!   `library not found for -lyaml` (Apple ld);
//! * an `error: ...` line (distutils/setuptools `error: can't find Rust compiler`, a compiler's
//!   `x.c:3:1: error: ...`, cargo's `error[E0425]: ...`).
//!
//! The last specific candidate wins: what a build printed last before giving up is what made
//! it give up. Generic lines that only say "something failed" (`error: command '/usr/bin/gcc'
//! failed with exit code 1`, gcc's `collect2: error: ld returned 1 exit status`, pip's
//! `error: subprocess-exited-with-error`, `ERROR: Failed building wheel`) are consequences of
//! an earlier line and are used only when nothing else is found.

/// Longest line kept; a summary line is read on a terminal.
const MAX_CHARS: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Generic,
    Specific,
}

/// The decisive line of `log`, trimmed and cleaned of control characters, if any.
pub(super) fn decisive_line(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let mut best: Option<(Kind, usize)> = None;
    let mut consider = |kind: Kind, at: usize| {
        if best.is_none_or(|(k, i)| kind > k || (kind == k && at > i)) {
            best = Some((kind, at));
        }
    };
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        let text = strip_noise(line);
        if text.starts_with("Traceback (most recent call last):") {
            if let Some(at) = exception_line(&lines, i) {
                // A backend that re-raises a failed compiler run says only that it failed.
                let kind = if lines[at].contains("CalledProcessError") {
                    Kind::Generic
                } else {
                    Kind::Specific
                };
                consider(kind, at);
                i = at + 1;
                continue;
            }
        } else if let Some(kind) = error_kind(text) {
            consider(kind, i);
        }
        i += 1;
    }
    let (_, at) = best?;
    lines.get(at).map(|line| clean(strip_noise(line)))
}

/// The line after a traceback's frames: the first one indented no deeper than the
/// `Traceback` header (pip indents a subprocess's output, so the header may be indented).
fn exception_line(lines: &[&str], header: usize) -> Option<usize> {
    let depth = indent(lines.get(header)?);
    lines
        .iter()
        .enumerate()
        .skip(header + 1)
        .find(|(_, l)| !l.trim().is_empty() && indent(l) <= depth)
        .map(|(at, _)| at)
        .filter(|at| {
            let text = strip_noise(lines[*at]);
            // A bare frame-less header (`Traceback ...` then nothing) is no exception line.
            !text.starts_with("Traceback (most recent call last):")
        })
}

fn error_kind(text: &str) -> Option<Kind> {
    let lower = text.to_ascii_lowercase();
    if lower.contains("fatal error:") {
        return Some(Kind::Specific);
    }
    let linker = [
        "cannot find -l",
        "unable to find library -l",
        "library not found for -l",
    ];
    if linker.iter().any(|l| lower.contains(l)) {
        return Some(Kind::Specific);
    }
    let is_error =
        lower.starts_with("error:") || lower.starts_with("error[") || lower.contains(": error:");
    if !is_error {
        return None;
    }
    let generic = [
        "subprocess-exited-with-error",
        "metadata-generation-failed",
        "failed building wheel",
        "could not build wheels",
        "failed to build",
        "ld returned 1 exit status",
        "linker command failed",
    ];
    let command_failed = lower.starts_with("error: command ")
        && (lower.contains("failed with exit") || lower.contains("returned non-zero"));
    if command_failed || generic.iter().any(|g| lower.contains(g)) {
        Some(Kind::Generic)
    } else {
        Some(Kind::Specific)
    }
}

/// Leading whitespace and the box-drawing prefixes pip puts before a subprocess's lines.
fn strip_noise(line: &str) -> &str {
    line.trim_start_matches(|c: char| c.is_whitespace() || "│║╰─>×".contains(c))
        .trim_end()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_CHARS)
        .collect();
    if text.chars().count() > MAX_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decisive_line;

    #[test]
    fn setuptools_rust_without_a_compiler() {
        let log = "\
running bdist_wheel
running build
running build_py
copying src/cryptography/__init__.py -> build/lib.linux-x86_64-cpython-311/cryptography
running build_rust
error: can't find Rust compiler

If you are using an outdated pip version, it is possible a prebuilt wheel is available for this package but pip is not able to install from it. Installing from the wheel would avoid the need for a Rust compiler.

To update pip, run:

    pip install --upgrade pip

and then retry package installation.
";
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("error: can't find Rust compiler")
        );
    }

    #[test]
    fn gcc_fatal_error_beats_the_command_failed_line_after_it() {
        let log = "\
running build_ext
building '_cffi_backend' extension
creating build/temp.linux-x86_64-cpython-311/src/c
gcc -Wno-unused-result -Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall -fPIC -DFFI_BUILDING=1 -I/usr/include/ffi -I/usr/include/libffi -I/usr/local/include/python3.11 -c src/c/_cffi_backend.c -o build/temp.linux-x86_64-cpython-311/src/c/_cffi_backend.o
src/c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory
   15 | #include <ffi.h>
      |          ^~~~~~~
compilation terminated.
error: command '/usr/bin/gcc' failed with exit code 1
";
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("src/c/_cffi_backend.c:15:10: fatal error: ffi.h: No such file or directory")
        );
    }

    #[test]
    fn the_linker_line_beats_collect2_and_the_command_line() {
        let log = "\
gcc -shared build/temp/_yaml.o -lyaml -o build/lib/yaml/_yaml.so
/usr/bin/ld: cannot find -lyaml: No such file or directory
collect2: error: ld returned 1 exit status
error: command '/usr/bin/gcc' failed with exit code 1
";
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("/usr/bin/ld: cannot find -lyaml: No such file or directory")
        );
        let lld = "ld.lld: error: unable to find library -lssl\nclang: error: linker command failed with exit code 1 (use -v to see invocation)\n";
        assert_eq!(
            decisive_line(lld).as_deref(),
            Some("ld.lld: error: unable to find library -lssl")
        );
    }

    #[test]
    fn a_traceback_gives_its_exception_line() {
        let log = r#"running egg_info
Traceback (most recent call last):
  File "/build/control/shim.py", line 55, in main
    result["return_val"] = hook(**request.get("kwargs", {}))
                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/env/lib/python3.11/site-packages/setuptools/build_meta.py", line 325, in get_requires_for_build_wheel
    return self._get_build_requires(config_settings, requirements=['wheel'])
  File "<string>", line 4, in <module>
ModuleNotFoundError: No module named 'numpy'
"#;
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("ModuleNotFoundError: No module named 'numpy'")
        );
    }

    #[test]
    fn chained_tracebacks_give_the_last_exception() {
        let log = "\
Traceback (most recent call last):
  File \"a.py\", line 1, in <module>
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File \"a.py\", line 3, in <module>
RuntimeError: configure failed: no libxml2
";
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("RuntimeError: configure failed: no libxml2")
        );
    }

    #[test]
    fn pip_like_noise_after_the_error_is_passed_over() {
        let log = "\
  × Building wheel for cryptography (pyproject.toml) did not run successfully.
  │ exit code: 1
  ╰─> [4 lines of output]
      running build_rust
      error: can't find Rust compiler
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
  ERROR: Failed building wheel for cryptography
error: subprocess-exited-with-error
ERROR: Could not build wheels for cryptography, which is required to install pyproject.toml-based projects
";
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("error: can't find Rust compiler")
        );
    }

    #[test]
    fn a_called_process_error_after_the_compiler_is_passed_over() {
        let log = "\
x.c:1:10: fatal error: Python.h: No such file or directory
compilation terminated.
Traceback (most recent call last):
  File \"build.py\", line 9, in build_wheel
subprocess.CalledProcessError: Command '['cc', '-c', 'x.c']' returned non-zero exit status 1.
";
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("x.c:1:10: fatal error: Python.h: No such file or directory")
        );
    }

    #[test]
    fn a_generic_line_is_used_when_nothing_else_is_there() {
        let log = "gcc -c x.c\nerror: command '/usr/bin/gcc' failed with exit code 1\n";
        assert_eq!(
            decisive_line(log).as_deref(),
            Some("error: command '/usr/bin/gcc' failed with exit code 1")
        );
    }

    #[test]
    fn nothing_decisive_in_a_quiet_log() {
        assert_eq!(decisive_line("running build\nrunning build_py\n"), None);
        assert_eq!(decisive_line(""), None);
        // A word "error" inside ordinary output is no error line.
        assert_eq!(decisive_line("checking for strerror... yes\n"), None);
    }

    #[test]
    fn the_line_is_bounded_and_has_no_control_characters() {
        let long = format!("error: {}\x1b[0m\n", "x".repeat(1000));
        let line = decisive_line(&long).unwrap();
        assert!(line.chars().count() <= 301, "{}", line.len());
        assert!(!line.contains('\x1b'));
    }
}
