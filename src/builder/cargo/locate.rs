//! Where an unpacked sdist keeps its Rust crate: the manifests the build back ends name, then
//! the usual places, and for each the `Cargo.lock` cargo would use (the manifest's own
//! directory or a workspace root above it, inside the sdist).

use std::path::{Component, Path, PathBuf};

/// A Rust manifest of the sdist and the lock that pins its crates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RustManifest {
    /// Absolute path of the `Cargo.toml`.
    pub manifest: PathBuf,
    /// The manifest relative to the sdist's root, for messages.
    pub relative: String,
    /// Absolute path of the `Cargo.lock`, when the sdist has one.
    pub lock: Option<PathBuf>,
}

/// Places a Rust build's manifest usually is when no back end setting names it.
const USUAL_DIRS: &[&str] = &["", "rust", "src", "native"];

/// The Rust manifests of the sdist unpacked at `root`, in the order found, without duplicates.
/// Named ones come first: maturin's `[tool.maturin] manifest-path`, setuptools-rust's
/// `[tool.setuptools-rust]` `ext-modules` and `bins` (`path`, default `Cargo.toml`).
pub(super) fn find_manifests(root: &Path) -> Vec<RustManifest> {
    let mut named = Vec::new();
    if let Ok(text) = std::fs::read_to_string(root.join("pyproject.toml"))
        && let Ok(table) = toml::from_str::<toml::Table>(&text)
    {
        let tool = table.get("tool").and_then(|t| t.as_table());
        if let Some(path) = tool
            .and_then(|t| t.get("maturin"))
            .and_then(|m| m.get("manifest-path"))
            .and_then(|p| p.as_str())
        {
            named.push(path.to_string());
        }
        let setuptools_rust = tool.and_then(|t| t.get("setuptools-rust"));
        for key in ["ext-modules", "bins"] {
            let entries = setuptools_rust
                .and_then(|s| s.get(key))
                .and_then(|e| e.as_array());
            for entry in entries.into_iter().flatten() {
                let path = entry
                    .get("path")
                    .and_then(|p| p.as_str())
                    .unwrap_or("Cargo.toml");
                named.push(path.to_string());
            }
        }
    }
    let usual = USUAL_DIRS.iter().map(|d| {
        if d.is_empty() {
            "Cargo.toml".to_string()
        } else {
            format!("{d}/Cargo.toml")
        }
    });
    let mut found: Vec<RustManifest> = Vec::new();
    for relative in named.into_iter().chain(usual) {
        let Some(manifest) = inside(root, &relative) else {
            continue;
        };
        if !manifest.is_file() || found.iter().any(|m| m.manifest == manifest) {
            continue;
        }
        let lock = lock_for(root, &manifest);
        found.push(RustManifest {
            manifest,
            relative,
            lock,
        });
    }
    found
}

/// `root/relative` when `relative` is a plain relative path (no `..`, not absolute) whose real
/// location stays inside `root`.
fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return None;
    }
    let path = root.join(rel);
    let real = std::fs::canonicalize(&path).ok()?;
    let real_root = std::fs::canonicalize(root).ok()?;
    real.starts_with(&real_root).then_some(real)
}

/// The nearest `Cargo.lock` from the manifest's directory up to the sdist's root.
fn lock_for(root: &Path, manifest: &Path) -> Option<PathBuf> {
    let real_root = std::fs::canonicalize(root).ok()?;
    let mut dir = manifest.parent();
    while let Some(d) = dir {
        if !d.starts_with(&real_root) {
            break;
        }
        let lock = d.join("Cargo.lock");
        if std::fs::symlink_metadata(&lock).is_ok_and(|m| m.is_file()) {
            return Some(lock);
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_named_manifest_finds_the_workspace_lock_above_it() {
        let dir = tree(&[
            (
                "pyproject.toml",
                "[tool.maturin]\nmanifest-path = \"crates/py/Cargo.toml\"\n",
            ),
            ("crates/py/Cargo.toml", "[package]\n"),
            ("Cargo.toml", "[workspace]\n"),
            ("Cargo.lock", "version = 4\n"),
        ]);
        let found = find_manifests(dir.path());
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].relative, "crates/py/Cargo.toml");
        assert_eq!(found[0].lock, Some(root.join("Cargo.lock")));
        assert_eq!(found[1].relative, "Cargo.toml");
    }

    #[test]
    fn setuptools_rust_paths_and_usual_dirs_are_found_and_escapes_ignored() {
        let dir = tree(&[
            (
                "pyproject.toml",
                "[[tool.setuptools-rust.ext-modules]]\ntarget = \"p._n\"\npath = \"../x/Cargo.toml\"\n",
            ),
            ("rust/Cargo.toml", "[package]\n"),
        ]);
        let found = find_manifests(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].relative, "rust/Cargo.toml");
        assert_eq!(found[0].lock, None);
        assert!(find_manifests(tree(&[("setup.py", "")]).path()).is_empty());
    }
}
