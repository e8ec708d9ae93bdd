//! Table-driven tests of the requirements parser; each table names the pip rule it checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::lines::{decode, logical_lines};
use super::options::break_args_options;
use super::*;

fn env(name: &str) -> Option<String> {
    let vars: HashMap<&str, &str> = [
        ("IDX_HOST", "devpi.local"),
        ("VERSION", "2.0"),
        ("EMPTY", ""),
        ("OPTS", "--hash=sha256:"),
    ]
    .into_iter()
    .collect();
    vars.get(name).map(|v| v.to_string())
}

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// A directory with `files` written into it; parses `reqs.txt`.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new(files: &[(&str, &[u8])]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, content) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn parse(&self, name: &str) -> Result<ParsedRequirements, RequirementsError> {
        parse_files(&[self.path(name)], &env)
    }

    /// The error message with the temp dir prefix removed.
    fn error(&self, name: &str) -> String {
        let err = self.parse(name).expect_err("expected an error");
        err.to_string()
            .replace(&format!("{}/", self.dir.path().display()), "")
    }
}

fn parse(content: &str) -> ParsedRequirements {
    parse_str(content, Path::new("reqs.txt"), &env)
        .unwrap_or_else(|e| panic!("parsing {content:?} failed: {e}"))
}

fn parse_err(content: &str) -> String {
    match parse_str(content, Path::new("reqs.txt"), &env) {
        Ok(p) => panic!("parsing {content:?} succeeded: {:?}", p.requirements),
        Err(e) => e.to_string(),
    }
}

fn texts(p: &ParsedRequirements) -> Vec<String> {
    p.requirements.iter().map(|r| r.text.clone()).collect()
}

#[test]
fn decoding() {
    // (bytes, expected requirement texts) — pip's auto_decode: BOMs, PEP 263, UTF-8.
    let utf16le: Vec<u8> = b"\xff\xfe"
        .iter()
        .copied()
        .chain("foo==1.0\r\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf16be: Vec<u8> = b"\xfe\xff"
        .iter()
        .copied()
        .chain("bar>=2\n".encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    let utf32le: Vec<u8> = b"\xff\xfe\x00\x00"
        .iter()
        .copied()
        .chain("baz\n".chars().flat_map(|c| (c as u32).to_le_bytes()))
        .collect();
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "utf-8 BOM stripped",
            b"\xef\xbb\xbffoo==1.0\n".to_vec(),
            vec!["foo==1.0"],
        ),
        ("utf-16-le BOM", utf16le, vec!["foo==1.0"]),
        ("utf-16-be BOM", utf16be, vec!["bar>=2"]),
        ("utf-32-le BOM before utf-16-le", utf32le, vec!["baz"]),
        (
            "PEP 263 latin-1 on line 1",
            b"# -*- coding: latin-1 -*-\nfoo==1.0 # caf\xe9\n".to_vec(),
            vec!["foo==1.0"],
        ),
        (
            "PEP 263 latin-1 on line 2",
            b"# top\n# vim: set fileencoding=latin1 :\nfoo # \xe9\n".to_vec(),
            vec!["foo"],
        ),
        (
            "coding line on line 3 is ignored (then UTF-8)",
            b"# a\n# b\n# coding: latin-1\nfoo # caf\xc3\xa9\n".to_vec(),
            vec!["foo"],
        ),
        (
            "plain UTF-8 with unicode comment",
            "foo # ünïcødé ✓\n".as_bytes().to_vec(),
            vec!["foo"],
        ),
        (
            "no trailing newline",
            b"foo\nbar".to_vec(),
            vec!["foo", "bar"],
        ),
    ];
    for (what, bytes, expected) in cases {
        let content = decode(&bytes, Path::new("r.txt")).unwrap_or_else(|e| panic!("{what}: {e}"));
        let parsed = parse(&content);
        assert_eq!(texts(&parsed), expected, "{what}");
    }
}

#[test]
fn decoding_errors() {
    let cases: Vec<(&[u8], &str)> = vec![
        (
            b"foo==1.0\nbar # caf\xe9\n",
            "r.txt:2:10: invalid UTF-8 at byte offset 18; expected UTF-8 text",
        ),
        (
            b"\xef\xbb\xbf\xff",
            "r.txt:1:1: invalid UTF-8 at byte offset 3;",
        ),
        (
            b"# coding: koi8-r\nfoo\n",
            "r.txt:1:1: unsupported encoding `koi8-r` in the coding line",
        ),
        (
            b"\xff\xfefoo",
            "r.txt:1:1: cannot decode the file as UTF-16-LE",
        ),
        (
            b"# coding: ascii\nfoo \xe9\n",
            "r.txt:2:5: cannot decode the file as ascii",
        ),
    ];
    for (bytes, expected) in cases {
        let err = decode(bytes, Path::new("r.txt"))
            .expect_err(expected)
            .to_string();
        assert!(
            err.starts_with(expected),
            "got {err:?}, expected {expected:?}"
        );
    }
}

#[test]
fn preprocessing() {
    // (content, [(pip line number, logical text)]) — pip's join_lines, ignore_comments, env.
    let cases: Vec<(&str, Vec<(usize, &str)>)> = vec![
        ("a\r\nb\r\n", vec![(1, "a"), (2, "b")]),
        ("a\rb\n", vec![(1, "a"), (2, "b")]),
        (
            "foo==1.0 \\\n  --hash=x\nbar",
            vec![(1, "foo==1.0   --hash=x"), (3, "bar")],
        ),
        // a comment line never continues
        ("# note \\\nfoo\n", vec![(2, "foo")]),
        // continuation into a comment: the comment line ends the logical line
        (
            "foo==1.0 \\\n# comment\nbar\n",
            vec![(1, "foo==1.0"), (3, "bar")],
        ),
        (
            "foo==1.0 \\\n    # indented comment\nbar\n",
            vec![(1, "foo==1.0"), (3, "bar")],
        ),
        // continuation on the last line: the backslash is dropped
        ("foo \\\nbar==1 \\", vec![(1, "foo bar==1")]),
        ("foo\\", vec![(1, "foo")]),
        // pip strips *all* leading and trailing backslashes of a continued line
        ("\\foo\\\\\nbar", vec![(1, "foobar")]),
        // `#` starts a comment only at the start or after whitespace
        (
            "https://x/f.whl#sha256=abc",
            vec![(1, "https://x/f.whl#sha256=abc")],
        ),
        (
            "https://x/f.tar.gz #egg=foo",
            vec![(1, "https://x/f.tar.gz")],
        ),
        ("pkg#frag", vec![(1, "pkg#frag")]),
        ("foo\t# tab comment", vec![(1, "foo")]),
        ("   \n\t\n", vec![]),
        ("  foo  ", vec![(1, "foo")]),
        // env expansion: uppercase names only; unset or empty stays literal; after comments
        ("foo==${VERSION}", vec![(1, "foo==2.0")]),
        (
            "foo==${version} ${UNSET} ${EMPTY} $VERSION",
            vec![(1, "foo==${version} ${UNSET} ${EMPTY} $VERSION")],
        ),
        ("foo # ${VERSION}", vec![(1, "foo")]),
        (
            "-i https://${IDX_HOST}/root/+simple/",
            vec![(1, "-i https://devpi.local/root/+simple/")],
        ),
    ];
    for (content, expected) in cases {
        let got: Vec<(usize, String)> = logical_lines(Path::new("r.txt"), content, &env)
            .into_iter()
            .map(|l| (l.line, l.text))
            .collect();
        let expected: Vec<(usize, String)> = expected
            .into_iter()
            .map(|(n, t)| (n, t.to_string()))
            .collect();
        assert_eq!(got, expected, "{content:?}");
    }
}

#[test]
fn break_args_options_splits_at_first_dash_token() {
    // (line, requirement part, options part) — pip splits on single spaces only.
    let cases = [
        (
            "foo==1.0 --hash=a --hash=b",
            "foo==1.0",
            "--hash=a --hash=b",
        ),
        ("foo", "foo", ""),
        ("--pre", "", "--pre"),
        ("-r other.txt", "", "-r other.txt"),
        ("foo >= 1.0 -C a=b", "foo >= 1.0", "-C a=b"),
        ("foo==1.0\t--hash=a", "foo==1.0\t--hash=a", ""),
        ("foo  --pre", "foo ", "--pre"),
    ];
    for (line, args, opts) in cases {
        let (a, o) = break_args_options(line);
        assert_eq!((&line[a], &line[o]), (args, opts), "{line:?}");
    }
}

#[test]
fn hashes() {
    // (line, expected hashes) — --hash repeatable, `=` or space form, sha256/384/512.
    let sha384 = "c".repeat(96);
    let sha512 = "D".repeat(128);
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            format!("foo==1.0 --hash=sha256:{SHA_A} --hash sha256:{SHA_B}"),
            vec![format!("sha256:{SHA_A}"), format!("sha256:{SHA_B}")],
        ),
        (
            format!("foo==1.0 --hash=sha384:{sha384}"),
            vec![format!("sha384:{sha384}")],
        ),
        (
            format!("foo==1.0 --hash=sha512:{sha512}"),
            vec![format!("sha512:{}", sha512.to_lowercase())],
        ),
        (
            format!("foo==1.0 \\\n    --hash=sha256:{SHA_A} \\\n    --hash=sha256:{SHA_B}  # c"),
            vec![format!("sha256:{SHA_A}"), format!("sha256:{SHA_B}")],
        ),
        // optparse accepts unambiguous prefixes of long options
        (
            format!("foo==1.0 --ha=sha256:{SHA_A}"),
            vec![format!("sha256:{SHA_A}")],
        ),
        ("foo==1.0".into(), vec![]),
    ];
    for (content, expected) in cases {
        let parsed = parse(&content);
        let got: Vec<String> = parsed.requirements[0]
            .hashes
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, expected, "{content:?}");
        for h in &parsed.requirements[0].hashes {
            assert_eq!(
                h.to_string().parse::<HashDigest>().as_ref(),
                Ok(h),
                "round trip"
            );
        }
    }
}

#[test]
fn config_settings() {
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("foo -C key=val", vec![("key", "val")]),
        (
            "foo --config-settings=--build-option=--foo -C key=val -Ckey=v2",
            vec![("--build-option", "--foo"), ("key", "val"), ("key", "v2")],
        ),
        ("foo --config-settings 'a=b c'", vec![("a", "b c")]),
        ("foo -C empty=", vec![("empty", "")]),
    ];
    for (content, expected) in cases {
        let parsed = parse(content);
        let got: Vec<(&str, &str)> = parsed.requirements[0]
            .config_settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, expected, "{content:?}");
    }
}

#[test]
fn requirement_forms() {
    // (line, normalised name, Display of the parsed requirement) — pep508_rs does the parsing.
    let cases = [
        ("foo", "foo", "foo"),
        ("Foo_Bar==1.0", "foo-bar", "foo-bar==1.0"),
        (
            "foo[a,b]>=1; python_version<\"3.12\"",
            "foo",
            "foo[a,b]>=1 ; python_full_version < '3.12'",
        ),
        (
            "foo[a,b]>=1 ; python_version < \"3.12\"",
            "foo",
            "foo[a,b]>=1 ; python_full_version < '3.12'",
        ),
        ("foo (>=1.0, <2)", "foo", "foo>=1.0,<2"),
        ("foo>=1,<2", "foo", "foo>=1,<2"),
        ("foo===1.0", "foo", "foo===1.0"),
        ("foo~=1.4.2", "foo", "foo~=1.4.2"),
        ("foo==1.0;", "foo", "foo==1.0"),
        ("foo.bar", "foo-bar", "foo-bar"),
    ];
    for (line, name, display) in cases {
        let parsed = parse(line);
        let entry = &parsed.requirements[0];
        assert_eq!(entry.name().as_ref(), name, "{line:?}");
        assert_eq!(entry.requirement.to_string(), display, "{line:?}");
        assert_eq!(entry.text, line, "{line:?}");
    }
}

#[test]
fn several_versions_of_one_project_are_all_kept() {
    let parsed = parse("foo>=1.0\nFOO<2 ; sys_platform == 'linux'\nfoo==1.5\n");
    let names: Vec<_> = parsed
        .requirements
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(names, ["foo", "foo", "foo"]);
    let lines: Vec<_> = parsed.requirements.iter().map(|r| r.origin.line).collect();
    assert_eq!(lines, [1, 2, 3]);
}

#[test]
fn unsupported_entries() {
    // (line, kind, name) — pip's parse_req_from_line forms we do not handle.
    use UnsupportedKind::*;
    let cases = [
        ("-e ./pkg", Editable, None, "./pkg"),
        (
            "--editable=git+https://h/x.git#egg=x",
            Editable,
            None,
            "git+https://h/x.git#egg=x",
        ),
        (
            "foo @ https://x/foo-1.0-py3-none-any.whl#sha256=abc",
            DirectUrl,
            Some("foo"),
            "",
        ),
        ("foo@https://x/f.tar.gz", DirectUrl, Some("foo"), ""),
        (
            "foo[x] @ https://x/f.whl; python_version>'3'",
            DirectUrl,
            Some("foo"),
            "",
        ),
        (
            "https://x/bar-2.0.tar.gz#egg=bar",
            DirectUrl,
            Some("bar"),
            "",
        ),
        (
            "https://x/baz-1.0-py3-none-any.whl",
            DirectUrl,
            Some("baz"),
            "",
        ),
        (
            "https://x/f.tar.gz; python_version > '3'",
            DirectUrl,
            None,
            "",
        ),
        (
            "git+https://h/org/repo.git@v1.0#egg=repo&subdirectory=pkg",
            Vcs,
            Some("repo"),
            "",
        ),
        ("foo @ git+ssh://git@h/org/foo.git", Vcs, Some("foo"), ""),
        ("./pkg", LocalPath, None, ""),
        ("./localpkg[extra1]", LocalPath, None, ""),
        ("/abs/dir", LocalPath, None, ""),
        ("pkg.tar.gz", LocalPath, None, ""),
        ("dist/foo-1.0-py3-none-any.whl", LocalPath, Some("foo"), ""),
        ("file:///abs/foo-1.0.tar.gz", LocalPath, None, ""),
        ("foo @ file:///abs/foo", LocalPath, Some("foo"), ""),
        ("foo @ ./foo", LocalPath, Some("foo"), ""),
    ];
    for (line, kind, name, text) in cases {
        let parsed = parse(line);
        assert!(parsed.requirements.is_empty(), "{line:?}");
        let entry = &parsed.unsupported[0];
        assert_eq!(entry.kind, kind, "{line:?}");
        assert_eq!(
            entry.name.as_ref().map(|n| n.to_string()).as_deref(),
            name,
            "{line:?}"
        );
        let text = if text.is_empty() { line } else { text };
        assert_eq!(entry.text, text, "{line:?}");
        assert!(
            entry.to_string().starts_with("reqs.txt:1: skipping `"),
            "{entry}"
        );
    }
}

#[test]
fn global_options() {
    let parsed = parse(
        "--extra-index-url https://early.example/simple/\n\
         -i https://${IDX_HOST}/root/pypi/+simple/\n\
         --extra-index-url=https://other.example/simple/\n\
         --pre\n--prefer-binary\n--require-hashes\n\
         --trusted-host other.example:8080\n--use-feature=truststore\n--use-feature truststore\n\
         -f https://links.example/\n",
    );
    let o = &parsed.options;
    assert_eq!(
        o.index_url.as_deref(),
        Some("https://devpi.local/root/pypi/+simple/")
    );
    // pip drops extra indexes given before `-i`.
    assert_eq!(o.extra_index_urls, ["https://other.example/simple/"]);
    assert!(o.pre && o.prefer_binary && o.require_hashes && !o.no_index);
    assert_eq!(o.trusted_hosts, ["other.example:8080"]);
    assert_eq!(o.use_features, ["truststore"]);
    assert_eq!(o.find_links, ["https://links.example/"]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);

    // --no-index wins over later index options, with warnings.
    let parsed = parse("--no-index\n-i https://a/\n--extra-index-url https://b/\n");
    assert!(parsed.options.no_index);
    assert_eq!(parsed.options.index_url, None);
    assert!(parsed.options.extra_index_urls.is_empty());
    assert_eq!(parsed.warnings.len(), 2);
    assert_eq!(
        parsed.warnings[0].to_string(),
        "reqs.txt:2: `https://a/` is ignored because of `--no-index`"
    );

    // On one line pip applies `-i` before `--extra-index-url`, whatever the order written.
    let parsed = parse("--extra-index-url https://b/ -i https://a/\n");
    assert_eq!(parsed.options.index_url.as_deref(), Some("https://a/"));
    assert_eq!(parsed.options.extra_index_urls, ["https://b/"]);
}

#[test]
fn binary_selectors() {
    // (lines, no_binary, only_binary) — pip's handle_mutual_excludes.
    let cases = [
        ("--no-binary=lxml,Pillow", "lxml,pillow", ":none:"),
        (
            "--no-binary=lxml,Pillow\n--only-binary :all:",
            ":none:",
            ":all:",
        ),
        ("--no-binary lxml\n--only-binary lxml", ":none:", "lxml"),
        ("--only-binary :all:\n--no-binary foo", "foo", ":all:"),
        ("--no-binary :all:,foo", ":all:", ":none:"),
        ("--no-binary :all:,:none:,foo", "foo", ":none:"),
        ("--no-binary foo\n--no-binary :none:", ":none:", ":none:"),
        ("--only-binary=:none:", ":none:", ":none:"),
        // pip applies these while parsing, even on a requirement line
        ("bar --no-binary foo", "foo", ":none:"),
    ];
    for (content, no_binary, only_binary) in cases {
        let o = parse(content).options;
        let show = |s: &PackageSelector| s.to_string();
        assert_eq!(
            (show(&o.no_binary), show(&o.only_binary)),
            (no_binary.to_string(), only_binary.to_string()),
            "{content:?}"
        );
    }
    let o = parse("--only-binary :all:\n--no-binary lxml").options;
    let name = |s: &str| s.parse::<PackageName>().unwrap();
    assert_eq!(
        o.allowed_formats(&name("lxml")),
        AllowedFormats {
            binary: false,
            source: true
        }
    );
    assert_eq!(
        o.allowed_formats(&name("numpy")),
        AllowedFormats {
            binary: true,
            source: false
        }
    );
}

#[test]
fn warnings_for_ignored_options() {
    let cases = [
        (
            format!("--hash=sha256:{SHA_A}"),
            "reqs.txt:1: `--hash` on a line without a requirement is ignored",
        ),
        (
            "foo --pre".to_string(),
            "reqs.txt:1: `--pre` is ignored on a requirement line (pip ignores it too)",
        ),
        (
            "--pre foo".to_string(),
            "reqs.txt:1: extra argument `foo` is ignored (pip ignores it too)",
        ),
        (
            "-f a -f b".to_string(),
            "reqs.txt:1: `b` is ignored: pip uses only the first `-f` of a line",
        ),
    ];
    for (content, expected) in cases {
        let parsed = parse(&content);
        let got: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(got, [expected], "{content:?}");
    }
}

#[test]
fn errors() {
    // (content, exact message) — every error says where (file:line:column) and what was expected.
    let cases: Vec<(String, &str)> = vec![
        (
            "foo\nbar>=1.0+local\n".into(),
            "reqs.txt:2:4: invalid requirement `bar>=1.0+local` at `>=1.0+local`: Operator >= is incompatible",
        ),
        (
            "foo===1.0abc".into(),
            "reqs.txt:1:4: invalid requirement `foo===1.0abc` at `===1.0abc`: arbitrary equality (`===`) with a non-PEP 440 version: ",
        ),
        (
            "  foo bar".into(),
            "reqs.txt:1:7: invalid requirement `foo bar` at `b`: ",
        ),
        // inside a continuation the error points at the physical line and column
        (
            "foo==1.0 \\\n  ; python_version >> '3'".into(),
            "reqs.txt:2:20: invalid requirement `foo==1.0   ; python_version >> '3'` at `>>`: Expected a valid marker operator",
        ),
        (
            "--upgrade".into(),
            "reqs.txt:1:1: unknown option `--upgrade`; expected one of -r/--requirement",
        ),
        (
            "foo -x".into(),
            "reqs.txt:1:5: unknown option `-x`; expected one of",
        ),
        (
            "--no".into(),
            "reqs.txt:1:1: ambiguous option `--no`; it could be `--no-index`, `--no-binary`",
        ),
        (
            "-r".into(),
            "reqs.txt:1:1: option `-r` requires a value; expected `-r FILE`",
        ),
        (
            "foo --hash".into(),
            "reqs.txt:1:5: option `--hash` requires a value; expected `--hash ALGO:HEX`",
        ),
        (
            "--pre=yes".into(),
            "reqs.txt:1:1: option `--pre` does not take a value; expected `--pre` alone",
        ),
        (
            "foo --hash=md5:abcd".into(),
            "reqs.txt:1:12: invalid hash `md5:abcd`: unsupported algorithm `md5`; expected `--hash=ALGO:HEX` with ALGO one of sha256, sha384, sha512",
        ),
        (
            "foo --hash=sha256:abcd".into(),
            "reqs.txt:1:12: invalid hash `sha256:abcd`: the sha256 digest has 4 hex digits, expected 64;",
        ),
        (
            "foo --hash=sha256:xyz".into(),
            "reqs.txt:1:12: invalid hash `sha256:xyz`: `x` is not a hex digit;",
        ),
        (
            "foo --hash=sha256".into(),
            "reqs.txt:1:12: invalid hash `sha256`: missing `:` between",
        ),
        (
            "foo -C novalue".into(),
            "reqs.txt:1:8: invalid config setting `novalue`; expected `KEY=VALUE`",
        ),
        (
            "foo -C 'unclosed".into(),
            "reqs.txt:1:8: cannot split options: no closing quotation for `'`; expected balanced shell-style quotes",
        ),
        (
            "--no-binary --pre".into(),
            "reqs.txt:1:13: invalid value `--pre` for `--no-binary`: expected a comma-separated list",
        ),
        (
            "--only-binary=foo!".into(),
            "reqs.txt:1:15: invalid value `foo!` for `--only-binary`: ",
        ),
        (
            "-r https://user:secret@h.example/r.txt".into(),
            "reqs.txt:1:1: remote requirements files are not supported: `https://h.example/r.txt`; expected a local path",
        ),
        (
            "-c http://h.example/c.txt".into(),
            "reqs.txt:1:1: remote requirements files are not supported",
        ),
    ];
    for (content, expected) in cases {
        let err = parse_err(&content);
        assert!(
            err.starts_with(expected),
            "{content:?}\n got: {err}\nwant: {expected}"
        );
        assert!(!err.contains("secret"), "{err}");
    }
}

#[test]
fn error_columns_are_unicode_aware() {
    // `é` is two bytes but one column.
    let err = parse_err("# é\nfoo ; é");
    assert!(err.starts_with("reqs.txt:2:"), "{err}");
    let err = parse_err("-C é --upgrade");
    assert!(
        err.starts_with("reqs.txt:1:6: unknown option `--upgrade`"),
        "{err}"
    );
}

#[test]
fn includes() {
    let tree = Tree::new(&[
        (
            "reqs.txt",
            b"first\n-r sub/more.txt\n--constraint=constraints.txt\nlast\n",
        ),
        ("sub/more.txt", b"more==1\n-r ../other-level.txt\n"),
        ("other-level.txt", b"other\n"),
        ("constraints.txt", b"first<3\n-r sub/from-constraints.txt\n"),
        ("sub/from-constraints.txt", b"nested\n"),
    ]);
    let parsed = tree.parse("reqs.txt").unwrap();
    // Depth-first, in reading order; `-r` inside a constraints file yields requirements (pip).
    assert_eq!(
        texts(&parsed),
        ["first", "more==1", "other", "nested", "last"]
    );
    let c: Vec<_> = parsed.constraints.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(c, ["first<3"]);
    // Origins keep the joined (not canonicalised) path.
    assert_eq!(
        parsed.requirements[2].origin.file,
        tree.path("sub/../other-level.txt")
    );
    assert_eq!(
        parsed.requirements[2].origin.to_string(),
        format!("{}:1", tree.path("sub/../other-level.txt").display())
    );
}

#[test]
fn include_errors() {
    let tree = Tree::new(&[
        ("a.txt", b"foo\n\n\n-r b.txt\n"),
        ("b.txt", b"-r ./a.txt\n"),
        ("self.txt", b"-r self.txt\n"),
        ("missing.txt", b"  -r nope.txt\n"),
        ("bad-constraint.txt", b"-c c.txt\n"),
        ("c.txt", b"ok<2\n-e ./pkg\n"),
        ("extras-constraint.txt", b"-c c2.txt\n"),
        ("c2.txt", b"foo[bar]<2\n"),
        ("did-you-mean.txt", b"foo\nother.txt\n"),
        ("other.txt", b"bar\n"),
        ("bad-utf8.txt", b"-r latin.txt\n"),
        ("latin.txt", b"foo # caf\xe9\n"),
    ]);
    let cases = [
        (
            "a.txt",
            "b.txt:1:1: requirements file includes itself: a.txt -> b.txt -> ./a.txt",
        ),
        (
            "self.txt",
            "self.txt:1:1: requirements file includes itself: self.txt -> self.txt",
        ),
        (
            "missing.txt",
            "missing.txt:1:3: cannot read included requirements file `nope.txt`: No such file",
        ),
        (
            "bad-constraint.txt",
            "c.txt:2:4: invalid constraint `./pkg`: editable requirements are not allowed as constraints; expected a package name",
        ),
        (
            "extras-constraint.txt",
            "c2.txt:1:1: invalid constraint `foo[bar]<2`: constraints cannot have extras;",
        ),
        (
            "did-you-mean.txt",
            "did-you-mean.txt:2:1: requirement `other.txt` names an existing requirements file; did you mean `-r other.txt`?",
        ),
        (
            "bad-utf8.txt",
            "latin.txt:1:10: invalid UTF-8 at byte offset 9;",
        ),
    ];
    for (file, expected) in cases {
        let err = tree.error(file);
        assert!(
            err.starts_with(expected),
            "{file}\n got: {err}\nwant: {expected}"
        );
    }
    let err = parse_files(&[tree.path("absent.txt")], &env)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("absent.txt: cannot read requirements file: No such file"),
        "{err}"
    );
}

#[test]
fn find_links_relative_to_the_requirements_file() {
    let tree = Tree::new(&[
        (
            "reqs.txt",
            b"-f ./wheels\n--find-links=missing-dir\n-r sub/more.txt\n",
        ),
        ("wheels/.keep", b""),
        ("sub/more.txt", b"-f ../wheels\n"),
    ]);
    let parsed = tree.parse("reqs.txt").unwrap();
    let dir = std::path::absolute(tree.dir.path()).unwrap();
    assert_eq!(
        parsed.options.find_links,
        [
            dir.join("./wheels").display().to_string(),
            "missing-dir".to_string(),
            dir.join("sub/../wheels").display().to_string(),
        ]
    );
}

#[test]
fn nasty_cases_named_in_the_issue() {
    // comment right after a URL
    let p = parse("foo @ https://x/f.whl#sha256=abc # c");
    assert_eq!(p.unsupported[0].text, "foo @ https://x/f.whl#sha256=abc");
    // continuation into a comment
    let p = parse("foo==1.0 \\\n# the comment\nbar");
    assert_eq!(texts(&p), ["foo==1.0", "bar"]);
    assert_eq!(p.requirements[1].origin.line, 3);
    // `;` marker without a space
    let p = parse("foo>=1;python_version<'3.12'");
    assert_eq!(
        p.requirements[0]
            .requirement
            .marker
            .try_to_string()
            .as_deref(),
        Some("python_full_version < '3.12'")
    );
    // unicode in comments and in an error position
    let p = parse("# ☃ snowman\nfoo==1.0  # naïve ✓\n");
    assert_eq!(p.requirements[0].origin.to_string(), "reqs.txt:2");
    // CRLF line endings with continuation and hashes
    let p = parse(&format!(
        "foo==1.0 \\\r\n    --hash=sha256:{SHA_A}\r\nbar\r\n"
    ));
    assert_eq!(texts(&p), ["foo==1.0", "bar"]);
    assert_eq!(p.requirements[0].hashes.len(), 1);
    assert_eq!(p.requirements[1].origin.line, 3);
    // a BOM (through parse_files)
    let tree = Tree::new(&[("reqs.txt", b"\xef\xbb\xbffoo==1.0\r\n")]);
    assert_eq!(texts(&tree.parse("reqs.txt").unwrap()), ["foo==1.0"]);
    // continuation on the last line
    let p = parse("foo==1.0 \\");
    assert_eq!(texts(&p), ["foo==1.0"]);
    // a line that is only whitespace
    let p = parse("foo\n \t \nbar");
    assert_eq!(texts(&p), ["foo", "bar"]);
}

#[test]
fn origins_use_pips_logical_line_and_the_requirement_column() {
    let p = parse(
        "\n\n   foo==1 \\\n  --hash=sha256:"
            .to_string()
            .as_str()
            .replace("sha256:", &format!("sha256:{SHA_A}"))
            .as_str(),
    );
    let o = &p.requirements[0].origin;
    assert_eq!((o.line, o.column), (3, 4));
}

#[test]
fn exclude_lists_parse_as_names_with_optional_specifiers() {
    let p = parse("# never build these\nnumpy\ntorch>=2\nPyQt5 ; sys_platform == 'win32'\n");
    let names: Vec<_> = p
        .requirements
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(names, ["numpy", "torch", "pyqt5"]);
}

/// The sample files in fixtures/requirements, found relative to this source file.
fn fixtures_dir() -> PathBuf {
    // `file!()` is `src/requirements/tests.rs` relative to the crate root (the test's working
    // directory), or absolute when the module is pulled into another crate by path.
    Path::new(file!())
        .ancestors()
        .map(|a| a.join("fixtures/requirements"))
        .find(|d| d.is_dir())
        .expect("fixtures/requirements next to src/")
}

#[test]
fn fixture_full_grammar() {
    let dir = fixtures_dir();
    let parsed = parse_files(&[dir.join("full-grammar.txt")], &env).unwrap();
    let names: Vec<_> = parsed
        .requirements
        .iter()
        .map(|r| format!("{} {}", r.name(), r.origin.line))
        .collect();
    assert_eq!(
        names,
        [
            "requests 21",
            "more-itertools 1",
            "other-level 3",
            "foo-bar 27",
            "baz 28",
            "click 30",
            "click 31",
            "attrs 33"
        ]
    );
    assert_eq!(parsed.requirements[0].hashes.len(), 2);
    assert_eq!(
        parsed.requirements[4].config_settings,
        [
            ("--build-option".to_string(), "--foo".to_string()),
            ("key".to_string(), "val".to_string())
        ]
    );
    let constraints: Vec<_> = parsed.constraints.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        constraints,
        ["requests<3", "urllib3>=1.26,<3 ; python_version >= \"3.8\""]
    );
    let kinds: Vec<_> = parsed.unsupported.iter().map(|u| u.kind).collect();
    use UnsupportedKind::*;
    assert_eq!(kinds, [DirectUrl, DirectUrl, LocalPath, Vcs, Editable]);
    let o = &parsed.options;
    assert_eq!(
        o.index_url.as_deref(),
        Some("https://devpi.local/root/pypi/+simple/")
    );
    assert_eq!(o.extra_index_urls, ["https://other.example/simple/"]);
    assert_eq!(
        o.find_links,
        [std::path::absolute(&dir)
            .unwrap()
            .join("wheels")
            .display()
            .to_string()]
    );
    assert!(o.prefer_binary);
    assert_eq!(o.use_features, ["truststore"]);
    assert_eq!(o.only_binary.to_string(), ":all:");
    assert!(o.no_binary.is_empty());
    assert!(o.pre);
    assert_eq!(o.trusted_hosts, ["other.example:8080"]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn fixture_errors() {
    // Each errors/*.txt names its expected message in its first line: `# error: <prefix>`.
    let dir = fixtures_dir().join("errors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "expected error fixtures in {}",
        dir.display()
    );
    for file in files {
        let content = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        let expected = content
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# error: "))
            .expect("`# error:` header");
        let err = parse_files(std::slice::from_ref(&file), &env)
            .expect_err(expected)
            .to_string();
        let err = err.replace(&format!("{}/", dir.display()), "");
        assert!(
            err.starts_with(expected),
            "{}\n got: {err}\nwant: {expected}",
            file.display()
        );
    }
}
