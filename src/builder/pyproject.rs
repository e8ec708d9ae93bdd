//! `[build-system]` of an unpacked sdist (PEP 517 / PEP 518), read without running anything.

use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use pep508_rs::Requirement;
use serde::Deserialize;

/// pip's and pypa/build's fallback when a project does not declare a backend (PEP 517
/// "legacy" behaviour): setuptools run the way `setup.py` would be.
pub(super) const LEGACY_REQUIRES: &str = "setuptools>=40.8.0";
pub(super) const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";

/// The build system a source tree asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSystem {
    pub requires: Vec<Requirement>,
    /// `module.path:object.path`.
    pub backend: String,
    /// In-tree directories put first on `sys.path`, relative to the source root.
    pub backend_path: Vec<PathBuf>,
    /// `false` when the PEP 517 legacy default was used.
    pub declared: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PyprojectError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid TOML: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("{path}: [build-system] has no `requires` (PEP 518 makes it mandatory)")]
    MissingRequires { path: PathBuf },
    #[error(
        "{path}: build-system.requires[{index}] `{requirement}` is not a PEP 508 requirement: {message}"
    )]
    BadRequirement {
        path: PathBuf,
        index: usize,
        requirement: String,
        message: String,
    },
    #[error("{path}: build-backend `{backend}` is not `module.path:object.path`")]
    BadBackend { path: PathBuf, backend: String },
    #[error("{path}: backend-path `{entry}` leaves the source tree (PEP 517 requires it inside)")]
    BackendPathEscape { path: PathBuf, entry: String },
}

#[derive(Deserialize)]
struct PyProject {
    #[serde(rename = "build-system")]
    build_system: Option<RawBuildSystem>,
}

#[derive(Deserialize)]
struct RawBuildSystem {
    requires: Option<Vec<String>>,
    #[serde(rename = "build-backend")]
    build_backend: Option<String>,
    #[serde(rename = "backend-path")]
    backend_path: Option<Vec<String>>,
}

/// Read `<root>/pyproject.toml`; no file or no `[build-system]` gives the legacy default.
pub fn read_build_system(root: &Path) -> Result<BuildSystem, PyprojectError> {
    let path = root.join("pyproject.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(legacy(Vec::new())),
        Err(source) => return Err(PyprojectError::Read { path, source }),
    };
    parse_build_system(&text, &path)
}

/// Parse the text of a pyproject.toml (`path` only names it in errors).
pub(super) fn parse_build_system(text: &str, path: &Path) -> Result<BuildSystem, PyprojectError> {
    let parsed: PyProject = toml::from_str(text).map_err(|e| PyprojectError::Toml {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let Some(raw) = parsed.build_system else {
        return Ok(legacy(Vec::new()));
    };
    let Some(requires) = raw.requires else {
        return Err(PyprojectError::MissingRequires {
            path: path.to_path_buf(),
        });
    };
    let requires = requires
        .iter()
        .enumerate()
        .map(|(index, r)| {
            crate::requirements::parse_requirement(r).map_err(|e| PyprojectError::BadRequirement {
                path: path.to_path_buf(),
                index,
                requirement: r.clone(),
                message: e.message.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let Some(backend) = raw.build_backend else {
        // pip: requires kept, backend falls back to the legacy one.
        return Ok(BuildSystem {
            declared: true,
            ..legacy(requires)
        });
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            })
    };
    let (module, object) = backend.split_once(':').unwrap_or((backend.as_str(), ""));
    if !valid(module.trim()) || (!object.is_empty() && !valid(object.trim())) {
        return Err(PyprojectError::BadBackend {
            path: path.to_path_buf(),
            backend,
        });
    }
    let mut backend_path = Vec::new();
    for entry in raw.backend_path.unwrap_or_default() {
        backend_path.push(inside_tree(&entry).ok_or_else(|| {
            PyprojectError::BackendPathEscape {
                path: path.to_path_buf(),
                entry: entry.clone(),
            }
        })?);
    }
    Ok(BuildSystem {
        requires,
        backend,
        backend_path,
        declared: true,
    })
}

fn legacy(requires: Vec<Requirement>) -> BuildSystem {
    let requires = if requires.is_empty() {
        vec![Requirement::from_str(LEGACY_REQUIRES).expect("constant requirement parses")]
    } else {
        requires
    };
    BuildSystem {
        requires,
        backend: LEGACY_BACKEND.to_string(),
        backend_path: Vec::new(),
        declared: false,
    }
}

/// A relative path that stays inside the tree, lexically normalised (`.` allowed).
fn inside_tree(entry: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for component in Path::new(entry).components() {
        match component {
            Component::Normal(c) => {
                out.push(c);
                depth += 1;
            }
            Component::CurDir => {}
            Component::ParentDir => {
                depth = depth.checked_sub(1)?;
                out.pop();
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BuildSystem, PyprojectError> {
        parse_build_system(text, Path::new("x/pyproject.toml"))
    }

    #[test]
    fn declared_backend_with_path() {
        let bs = parse(
            "[build-system]\nrequires = []\nbuild-backend = \"backend:hooks\"\nbackend-path = [\"_b\", \"./tools/../_c\"]\n",
        )
        .unwrap();
        assert_eq!(bs.backend, "backend:hooks");
        assert_eq!(
            bs.backend_path,
            vec![PathBuf::from("_b"), PathBuf::from("_c")]
        );
        assert!(bs.requires.is_empty());
    }

    #[test]
    fn no_build_system_is_legacy() {
        let bs = parse("[project]\nname = \"x\"\n").unwrap();
        assert_eq!(bs.backend, LEGACY_BACKEND);
        assert_eq!(bs.requires[0].to_string(), "setuptools>=40.8.0");
        assert!(!bs.declared);
    }

    #[test]
    fn requires_without_backend_keeps_requires() {
        let bs = parse("[build-system]\nrequires = [\"setuptools>=61\", \"wheel\"]\n").unwrap();
        assert_eq!(bs.backend, LEGACY_BACKEND);
        assert_eq!(bs.requires.len(), 2);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse("[build-system]\nbuild-backend = \"x\"\n").unwrap_err();
        assert!(matches!(e, PyprojectError::MissingRequires { .. }), "{e}");
        let e = parse("[build-system]\nrequires = [\"ok\", \"bad ===\"]\n").unwrap_err();
        assert!(e.to_string().contains("requires[1]"), "{e}");
        let e =
            parse("[build-system]\nrequires=[]\nbuild-backend=\"b\"\nbackend-path=[\"../out\"]\n")
                .unwrap_err();
        assert!(matches!(e, PyprojectError::BackendPathEscape { .. }), "{e}");
        let e = parse("[build-system]\nrequires=[]\nbuild-backend=\"a b:c\"\n").unwrap_err();
        assert!(matches!(e, PyprojectError::BadBackend { .. }), "{e}");
    }
}
