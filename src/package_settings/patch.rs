//! Applying a unified diff (`diff -u`, `git diff`) to an unpacked sdist, as `patch -p1` or
//! `git apply` would, but strictly: every hunk's context and removed lines must match exactly
//! (a hunk may sit at another line than it says, as `git apply` allows, never with fuzz).
//! A patch that does not apply changes nothing and fails the job with the hunk.
//!
//! The tree is untrusted (it came from an sdist) and the patch is applied outside the
//! sandbox: every path is a relative path of plain components, and no component on the way
//! may be a symlink, so a link planted in the sdist cannot redirect the write.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("{patch}: line {line}: {message}")]
    Malformed {
        patch: String,
        line: usize,
        message: String,
    },
    #[error("{patch}: `{path}`: {message}")]
    BadPath {
        patch: String,
        path: String,
        message: String,
    },
    #[error("{patch}: hunk `{header}` does not apply to {path}:\n{hunk}")]
    DoesNotApply {
        patch: String,
        path: String,
        header: String,
        hunk: String,
    },
    #[error("{patch}: {path}: {source}")]
    Io {
        patch: String,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// One file's changes.
#[derive(Debug)]
struct FilePatch {
    /// `None` for a file the patch creates (`--- /dev/null`).
    old: Option<PathBuf>,
    /// `None` for a file the patch deletes (`+++ /dev/null`).
    new: Option<PathBuf>,
    hunks: Vec<Hunk>,
}

#[derive(Debug)]
struct Hunk {
    header: String,
    /// 1-based line in the old file where the hunk says it starts.
    old_start: usize,
    lines: Vec<HunkLine>,
}

#[derive(Debug, Clone)]
enum HunkLine {
    Context(String),
    Remove(String),
    Add(String),
}

/// Applies the unified diff at `patch` to the tree at `root`. All files are patched in
/// memory first; only when every hunk applies are they written.
pub fn apply_patch(root: &Path, patch: &Path) -> Result<Vec<PathBuf>, PatchError> {
    let shown = patch.display().to_string();
    let text = fs::read_to_string(patch).map_err(|source| PatchError::Io {
        patch: shown.clone(),
        path: shown.clone(),
        source,
    })?;
    let files = parse(&text, &shown)?;
    let mut results: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    for file in &files {
        let old_text = match &file.old {
            Some(old) => {
                let path = checked_path(root, old, &shown)?;
                match results.get(old) {
                    Some(Some(text)) => text.clone(),
                    _ => fs::read_to_string(&path).map_err(|source| PatchError::Io {
                        patch: shown.clone(),
                        path: old.display().to_string(),
                        source,
                    })?,
                }
            }
            None => String::new(),
        };
        let shown_path = file
            .new
            .as_ref()
            .or(file.old.as_ref())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let patched = apply_hunks(&old_text, &file.hunks, &shown, &shown_path)?;
        if let (Some(old), Some(new)) = (&file.old, &file.new)
            && old != new
        {
            results.insert(old.clone(), None);
        }
        match &file.new {
            Some(new) => {
                checked_path(root, new, &shown)?;
                results.insert(new.clone(), Some(patched));
            }
            None => {
                if let Some(old) = &file.old {
                    results.insert(old.clone(), None);
                }
            }
        }
    }
    let mut touched = Vec::new();
    for (relative, content) in results {
        let path = checked_path(root, &relative, &shown)?;
        let io = |source| PatchError::Io {
            patch: shown.clone(),
            path: relative.display().to_string(),
            source,
        };
        match content {
            Some(content) => {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(io)?;
                }
                fs::write(&path, content).map_err(io)?;
            }
            None => {
                if path.exists() {
                    fs::remove_file(&path).map_err(io)?;
                }
            }
        }
        touched.push(relative);
    }
    Ok(touched)
}

/// `root/relative`, refusing absolute paths, `..`, and symlinks on the way.
fn checked_path(root: &Path, relative: &Path, patch: &str) -> Result<PathBuf, PatchError> {
    let bad = |message: &str| PatchError::BadPath {
        patch: patch.to_string(),
        path: relative.display().to_string(),
        message: message.to_string(),
    };
    let mut path = root.to_path_buf();
    for component in relative.components() {
        match component {
            Component::Normal(part) => {
                path.push(part);
                if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(bad("goes through a symlink in the sdist"));
                }
            }
            Component::CurDir => {}
            _ => return Err(bad("must be a relative path inside the sdist")),
        }
    }
    if path == root {
        return Err(bad("names no file"));
    }
    Ok(path)
}

/// `a/src/x.c` → `src/x.c` (`-p1`, as git writes them); `/dev/null` → `None`.
fn patch_path(raw: &str) -> Option<PathBuf> {
    // A tab ends the name (diff -u appends a timestamp after one).
    let name = raw.split('\t').next().unwrap_or(raw).trim_end();
    if name == "/dev/null" {
        return None;
    }
    let stripped = name
        .strip_prefix("a/")
        .or_else(|| name.strip_prefix("b/"))
        .unwrap_or(name);
    Some(PathBuf::from(stripped))
}

fn parse(text: &str, patch: &str) -> Result<Vec<FilePatch>, PatchError> {
    let malformed = |line: usize, message: &str| PatchError::Malformed {
        patch: patch.to_string(),
        line,
        message: message.to_string(),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut files = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(old) = lines[i].strip_prefix("--- ") else {
            i += 1; // `diff --git`, `index`, prose: ignored as patch(1) does
            continue;
        };
        let Some(new) = lines.get(i + 1).and_then(|l| l.strip_prefix("+++ ")) else {
            return Err(malformed(i + 2, "expected `+++ ` after `--- `"));
        };
        let mut file = FilePatch {
            old: patch_path(old),
            new: patch_path(new),
            hunks: Vec::new(),
        };
        if file.old.is_none() && file.new.is_none() {
            return Err(malformed(i + 1, "both sides are /dev/null"));
        }
        i += 2;
        while let Some(header) = lines.get(i).and_then(|l| l.strip_prefix("@@ ")) {
            let (old_start, old_len, new_len) =
                hunk_range(header).ok_or_else(|| malformed(i + 1, "bad hunk header"))?;
            let mut hunk = Hunk {
                header: format!("@@ {header}"),
                old_start,
                lines: Vec::new(),
            };
            let (mut seen_old, mut seen_new) = (0, 0);
            i += 1;
            while seen_old < old_len || seen_new < new_len {
                let Some(line) = lines.get(i) else {
                    return Err(malformed(i + 1, "the patch ends inside a hunk"));
                };
                let mut chars = line.chars();
                let kind = chars.next();
                let rest = chars.as_str();
                match kind {
                    Some(' ') | None => {
                        hunk.lines.push(HunkLine::Context(rest.to_string()));
                        seen_old += 1;
                        seen_new += 1;
                    }
                    Some('-') => {
                        hunk.lines.push(HunkLine::Remove(rest.to_string()));
                        seen_old += 1;
                    }
                    Some('+') => {
                        hunk.lines.push(HunkLine::Add(rest.to_string()));
                        seen_new += 1;
                    }
                    Some('\\') => {} // "\ No newline at end of file"
                    _ => return Err(malformed(i + 1, "unexpected line inside a hunk")),
                }
                i += 1;
            }
            while lines.get(i).is_some_and(|l| l.starts_with('\\')) {
                i += 1;
            }
            file.hunks.push(hunk);
        }
        if file.hunks.is_empty() {
            return Err(malformed(i + 1, "a file header without hunks"));
        }
        files.push(file);
    }
    if files.is_empty() {
        return Err(malformed(
            1,
            "no `--- `/`+++ ` file header: not a unified diff",
        ));
    }
    Ok(files)
}

/// `-12,5 +12,6 @@ ...` → (12, 5, 6); a missing length means 1.
fn hunk_range(header: &str) -> Option<(usize, usize, usize)> {
    let mut parts = header.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |text: &str| -> Option<(usize, usize)> {
        match text.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((text.parse().ok()?, 1)),
        }
    };
    let (old_start, old_len) = range(old)?;
    let (_, new_len) = range(new)?;
    Some((old_start, old_len, new_len))
}

fn apply_hunks(text: &str, hunks: &[Hunk], patch: &str, path: &str) -> Result<String, PatchError> {
    let trailing_newline = text.is_empty() || text.ends_with('\n');
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // Hunks apply top to bottom; `shift` is how far earlier hunks moved later lines.
    let mut shift: isize = 0;
    let mut floor = 0usize;
    for hunk in hunks {
        let expected: Vec<&str> = hunk
            .lines
            .iter()
            .filter_map(|l| match l {
                HunkLine::Context(t) | HunkLine::Remove(t) => Some(t.as_str()),
                HunkLine::Add(_) => None,
            })
            .collect();
        let replacement: Vec<String> = hunk
            .lines
            .iter()
            .filter_map(|l| match l {
                HunkLine::Context(t) | HunkLine::Add(t) => Some(t.clone()),
                HunkLine::Remove(_) => None,
            })
            .collect();
        // Saturating: the stated line is the patch's word, any number; one past every line
        // simply fits nowhere (a cast to `isize` wrapped, `+ shift` overflowed).
        let stated = hunk
            .old_start
            .saturating_sub(1)
            .saturating_add_signed(shift);
        let fits = |at: usize| {
            at >= floor
                && at + expected.len() <= lines.len()
                && lines[at..at + expected.len()]
                    .iter()
                    .zip(&expected)
                    .all(|(have, want)| have == want)
        };
        // The stated line first, then the nearest line above or below (git apply's offset).
        let position = (0..=lines.len())
            .flat_map(|d| [stated.checked_add(d), stated.checked_sub(d)])
            .flatten()
            .find(|at| fits(*at));
        let Some(at) = position else {
            return Err(PatchError::DoesNotApply {
                patch: patch.to_string(),
                path: path.to_string(),
                header: hunk.header.clone(),
                hunk: hunk_text(hunk),
            });
        };
        let added = replacement.len();
        lines.splice(at..at + expected.len(), replacement);
        shift += added as isize - expected.len() as isize;
        floor = at + added;
    }
    let mut out = lines.join("\n");
    if trailing_newline && !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

fn hunk_text(hunk: &Hunk) -> String {
    let mut out = hunk.header.clone();
    for line in &hunk.lines {
        let (mark, text) = match line {
            HunkLine::Context(t) => (' ', t),
            HunkLine::Remove(t) => ('-', t),
            HunkLine::Add(t) => ('+', t),
        };
        out.push('\n');
        out.push(mark);
        out.push_str(text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        dir
    }

    fn write_patch(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("fix.diff");
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_git_diff_applies_even_when_lines_moved() {
        let root = tree(&[("src/mod.c", "intro\nextra\none\ntwo\nthree\n")]);
        let patches = tempfile::tempdir().unwrap();
        // Says line 1, the context is at line 2 now (an offset, as git apply accepts).
        let patch = write_patch(
            patches.path(),
            "diff --git a/src/mod.c b/src/mod.c\n--- a/src/mod.c\n+++ b/src/mod.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n",
        );
        let touched = apply_patch(root.path(), &patch).unwrap();
        assert_eq!(touched, [PathBuf::from("src/mod.c")]);
        assert_eq!(
            fs::read_to_string(root.path().join("src/mod.c")).unwrap(),
            "intro\nextra\none\nTWO\nthree\n"
        );
    }

    #[test]
    fn a_hunk_that_does_not_match_changes_nothing_and_names_the_hunk() {
        let root = tree(&[("a.txt", "x\n"), ("b.txt", "one\ntwo\n")]);
        let patches = tempfile::tempdir().unwrap();
        let patch = write_patch(
            patches.path(),
            "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-x\n+y\n--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n one\n-three\n+four\n",
        );
        let error = apply_patch(root.path(), &patch).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("@@ -1,2 +1,2 @@") && message.contains("-three"),
            "{message}"
        );
        assert_eq!(
            fs::read_to_string(root.path().join("a.txt")).unwrap(),
            "x\n"
        );
    }

    #[test]
    fn new_and_deleted_files() {
        let root = tree(&[("old.txt", "bye\n")]);
        let patches = tempfile::tempdir().unwrap();
        let patch = write_patch(
            patches.path(),
            "--- /dev/null\n+++ b/new/file.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n",
        );
        apply_patch(root.path(), &patch).unwrap();
        assert_eq!(
            fs::read_to_string(root.path().join("new/file.txt")).unwrap(),
            "hello\nworld\n"
        );
        assert!(!root.path().join("old.txt").exists());
    }

    #[test]
    fn paths_outside_the_tree_and_through_symlinks_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("victim"), "safe\n").unwrap();
        let root = tree(&[("ok.txt", "safe\n")]);
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        let patches = tempfile::tempdir().unwrap();
        for target in ["../victim", "/etc/passwd", "link/victim"] {
            let patch = write_patch(
                patches.path(),
                &format!("--- {target}\n+++ {target}\n@@ -1 +1 @@\n-safe\n+owned\n"),
            );
            let error = apply_patch(root.path(), &patch).unwrap_err();
            assert!(
                matches!(error, PatchError::BadPath { .. }),
                "{target}: {error}"
            );
        }
        assert_eq!(
            fs::read_to_string(outside.path().join("victim")).unwrap(),
            "safe\n"
        );
    }

    #[test]
    fn malformed_patches_say_where() {
        let root = tree(&[("a.txt", "x\n")]);
        let patches = tempfile::tempdir().unwrap();
        for (text, expected) in [
            ("just prose\n", "not a unified diff"),
            (
                "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-x\n",
                "ends inside a hunk",
            ),
            ("--- a/a.txt\n+++ b/a.txt\n@@ bogus @@\n", "bad hunk header"),
            ("--- a/a.txt\n", "expected `+++ `"),
        ] {
            let patch = write_patch(patches.path(), text);
            let message = apply_patch(root.path(), &patch).unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }

    /// Found writing the patch fuzz target: a hunk stating a line near `isize::MAX` after one
    /// that added lines overflowed the offset arithmetic (a panic where overflow checks are on).
    #[test]
    fn a_hunk_at_a_huge_line_is_refused_not_a_panic() {
        let root = tree(&[("a", "a\n")]);
        let patches = tempfile::tempdir().unwrap();
        let patch = write_patch(
            patches.path(),
            &format!(
                "--- a/a\n+++ b/a\n@@ -1,0 +1,2 @@\n+x\n+y\n@@ -{},1 +1,1 @@\n-q\n+r\n",
                isize::MAX
            ),
        );
        let error = apply_patch(root.path(), &patch).unwrap_err();
        assert!(matches!(error, PatchError::DoesNotApply { .. }), "{error}");
        assert_eq!(fs::read_to_string(root.path().join("a")).unwrap(), "a\n");
    }

    proptest::proptest! {
        #![proptest_config(crate::proptest_config())]
        /// Whatever a patch says, applying it never panics and never writes outside.
        #[test]
        fn hostile_patches_never_panic(text in "(--- [a-z./]{0,8}\n\\+\\+\\+ [a-z./]{0,8}\n(@@ -[0-9]{1,2}(,[0-9])? \\+[0-9](,[0-9])? @@\n([ +\\-\\\\][a-z]{0,3}\n){0,6}){0,3}){0,2}") {
            let root = tree(&[("a", "a\nb\nc\n")]);
            let patches = tempfile::tempdir().unwrap();
            let patch = write_patch(patches.path(), &text);
            let _ = apply_patch(root.path(), &patch);
        }
    }
}
