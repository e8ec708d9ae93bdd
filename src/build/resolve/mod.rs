//! Resolving build requirements to wheels, without running any package code.
//!
//! A greedy resolver with re-check: each name gets the newest version that satisfies every
//! specifier seen for it so far (wheels only, tags and requires-python fitting the interpreter,
//! yanked files skipped, pre-releases only when a specifier names one); each chosen wheel's
//! Requires-Dist is followed until the set is closed. When a later specifier rules out a chosen
//! version, resolution restarts with that specifier known from the start (bounded rounds).
//! Build requirements are small sets (setuptools, wheel, a few plugins): this is enough.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use futures::future::BoxFuture;
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement, VersionOrUrl};

use crate::dist::{Compatibility, DistFilename, WheelFilename, read_wheel, sha256_file};
use crate::index::IndexFile;
use crate::interpreter::Interpreter;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Message(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// Where build requirements come from (the upstream index, `--find-links` dirs).
pub trait WheelSource: Send + Sync {
    /// Every file published for `project`.
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, SourceError>>;
    /// A local copy of `file`, verified against its published hash.
    fn fetch<'a>(&'a self, file: &'a IndexFile) -> BoxFuture<'a, Result<PathBuf, SourceError>>;
}

/// A `--build-constraints` pin: the only version allowed, and its allowed hashes (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConstraint {
    pub name: PackageName,
    pub version: Version,
    /// Lowercase hex sha256 digests; empty means any.
    pub sha256: Vec<String>,
}

/// One wheel of the resolved set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedWheel {
    pub name: PackageName,
    pub version: Version,
    pub filename: WheelFilename,
    pub path: PathBuf,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "build requirement `{requirement}` of {origin} is only published as an sdist; wheelwright provisions build requirements from wheels only"
    )]
    SdistOnly { requirement: String, origin: String },
    #[error(
        "build requirement `{requirement}` of {origin}: no wheel fits {interpreter} ({reason})"
    )]
    NoMatch {
        requirement: String,
        origin: String,
        interpreter: String,
        reason: Box<NoWheel>,
    },
    #[error(
        "build requirement `{requirement}` of {origin} is a URL; only index requirements are supported"
    )]
    Url { requirement: String, origin: String },
    #[error("build requirements conflict for {name}: {detail}")]
    Conflict { name: String, detail: String },
    #[error("listing {name}: {source}")]
    List { name: String, source: SourceError },
    #[error("fetching {file}: {source}")]
    Fetch { file: String, source: SourceError },
    #[error("{file}: sha256 {actual} is not among the --build-constraints hashes for {name}")]
    HashMismatch {
        file: String,
        name: String,
        actual: String,
    },
    #[error("reading {file}: {message}")]
    Metadata { file: String, message: String },
}

/// Why no wheel of a build requirement fits.
#[derive(Debug)]
pub enum NoWheel {
    NothingPublished,
    /// No listed wheel fits the specifiers, pins, tags and listed Requires-Python.
    NoneFits {
        /// Each specifier with where it came from.
        wanted: Vec<(VersionSpecifiers, String)>,
        /// `--build-constraints`' pin.
        pinned: Option<Version>,
        python: Version,
        /// Versions left out by their listed Requires-Python.
        other_python: Vec<(Version, String)>,
    },
    /// The candidates' METADATA (read when the listing gave no Requires-Python) excludes
    /// this Python.
    MetadataExcludes {
        python: Version,
        /// `filename (Requires-Python `spec`)`, one per candidate.
        excluded: Vec<String>,
    },
}

impl std::fmt::Display for NoWheel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoWheel::NothingPublished => f.write_str("no files are published for it"),
            NoWheel::NoneFits {
                wanted,
                pinned,
                python,
                other_python,
            } => {
                let wanted: Vec<String> = wanted
                    .iter()
                    .map(|(s, from)| {
                        if s.is_empty() {
                            format!("`*` from {from}")
                        } else {
                            format!("`{s}` from {from}")
                        }
                    })
                    .collect();
                write!(f, "wanted {}", wanted.join(", "))?;
                if let Some(pin) = pinned {
                    write!(f, "; --build-constraints pins {pin}")?;
                }
                if !other_python.is_empty() {
                    let needs: Vec<String> = other_python
                        .iter()
                        .map(|(version, rp)| format!("{version} needs Python `{rp}`"))
                        .collect();
                    write!(f, "; none is for Python {python} ({})", needs.join(", "))?;
                }
                Ok(())
            }
            NoWheel::MetadataExcludes { python, excluded } => write!(
                f,
                "no wheel is for Python {python}: the METADATA of {} excludes it",
                excluded.join(", ")
            ),
        }
    }
}

const MAX_ROUNDS: usize = 20;

/// A downloaded wheel, keyed by its URL.
struct Fetched {
    path: PathBuf,
    sha256: String,
    deps: Vec<Requirement>,
    /// From METADATA, for files whose listing did not say.
    requires_python: Option<String>,
}

/// Resolve `roots` (the build requirements of `origin`, e.g. `ww-legacy 1.0`) for `interpreter`.
pub async fn resolve(
    source: &dyn WheelSource,
    interpreter: &Interpreter,
    constraints: &[BuildConstraint],
    roots: &[Requirement],
    origin: &str,
) -> Result<Vec<ResolvedWheel>, ResolveError> {
    let mut listings: HashMap<PackageName, Vec<IndexFile>> = HashMap::new();
    let mut fetched: HashMap<String, Fetched> = HashMap::new();
    // Specifiers learnt in earlier rounds, applied from the start of later ones.
    let mut learnt: HashMap<PackageName, Vec<(VersionSpecifiers, String)>> = HashMap::new();
    let python = &interpreter.markers.python_full_version().version;
    for _round in 0..MAX_ROUNDS {
        let mut specs = learnt.clone();
        let mut extras: HashMap<PackageName, BTreeSet<ExtraName>> = HashMap::new();
        let mut chosen: BTreeMap<PackageName, ResolvedWheel> = BTreeMap::new();
        let mut chosen_url: HashMap<PackageName, String> = HashMap::new();
        let mut queue: VecDeque<(Requirement, String)> = applicable(roots, interpreter)
            .map(|r| (r, origin.to_string()))
            .collect();
        let mut restart = false;
        while let Some((req, from)) = queue.pop_front() {
            let name = req.name.clone();
            let spec = match &req.version_or_url {
                Some(VersionOrUrl::Url(_)) => {
                    return Err(ResolveError::Url {
                        requirement: req.to_string(),
                        origin: from,
                    });
                }
                Some(VersionOrUrl::VersionSpecifier(s)) => s.clone(),
                None => VersionSpecifiers::empty(),
            };
            let list = specs.entry(name.clone()).or_default();
            if !list.iter().any(|(s, f)| s == &spec && f == &from) {
                list.push((spec.clone(), from.clone()));
            }
            let new_extras: Vec<ExtraName> = {
                let set = extras.entry(name.clone()).or_default();
                req.extras
                    .iter()
                    .filter(|e| set.insert((*e).clone()))
                    .cloned()
                    .collect()
            };
            if let Some(current) = chosen.get(&name) {
                if spec.contains(&current.version) {
                    if !new_extras.is_empty() {
                        let deps = &fetched[&chosen_url[&name]].deps;
                        enqueue_deps(&mut queue, deps, interpreter, &extras[&name], current);
                    }
                    continue;
                }
                // A later specifier excludes the pick: start over knowing it.
                learnt.entry(name.clone()).or_default().push((spec, from));
                restart = true;
                break;
            }
            if !listings.contains_key(&name) {
                let files = source
                    .list(&name)
                    .await
                    .map_err(|source| ResolveError::List {
                        name: name.to_string(),
                        source,
                    })?;
                listings.insert(name.clone(), files);
            }
            let candidates = pick(
                &listings[&name],
                &name,
                &specs[&name],
                interpreter,
                constraints,
            )
            .map_err(|reason| no_match(reason, &req, &from, &listings[&name], interpreter))?;
            // Best first. A file whose listing gives no Requires-Python (a find-links
            // directory, an index without `data-requires-python`) is judged by its METADATA
            // before it is installed, as pip does; the download is the one provisioning needs.
            let mut found = None;
            let mut excluded = Vec::new();
            for (file, filename) in candidates {
                let key = file.url.to_string();
                if !fetched.contains_key(&key) {
                    fetched.insert(
                        key.clone(),
                        fetch_wheel(source, file, constraints, &name).await?,
                    );
                }
                if file.requires_python.is_none()
                    && let Some(rp) = &fetched[&key].requires_python
                    && !python_admitted(rp, python)
                {
                    excluded.push(format!("{} (Requires-Python `{rp}`)", file.filename));
                    continue;
                }
                found = Some((key, filename));
                break;
            }
            let Some((key, filename)) = found else {
                return Err(ResolveError::NoMatch {
                    requirement: req.to_string(),
                    origin: from,
                    interpreter: interpreter.label.clone(),
                    reason: Box::new(NoWheel::MetadataExcludes {
                        python: python.clone(),
                        excluded,
                    }),
                });
            };
            let done = &fetched[&key];
            let resolved = ResolvedWheel {
                name: name.clone(),
                version: filename.version.clone(),
                filename,
                path: done.path.clone(),
                sha256: done.sha256.clone(),
            };
            enqueue_deps(
                &mut queue,
                &done.deps,
                interpreter,
                &extras[&name],
                &resolved,
            );
            chosen_url.insert(name.clone(), key);
            chosen.insert(name, resolved);
        }
        if !restart {
            return Ok(chosen.into_values().collect());
        }
    }
    Err(ResolveError::Conflict {
        name: learnt
            .keys()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        detail: format!("no consistent choice after {MAX_ROUNDS} rounds"),
    })
}

/// Download (or locate) a wheel, check it against `--build-constraints`, read its METADATA.
async fn fetch_wheel(
    source: &dyn WheelSource,
    file: &IndexFile,
    constraints: &[BuildConstraint],
    name: &PackageName,
) -> Result<Fetched, ResolveError> {
    let path = source
        .fetch(file)
        .await
        .map_err(|source| ResolveError::Fetch {
            file: file.filename.to_string(),
            source,
        })?;
    let sha256 = sha256_file(&path).map_err(|e| ResolveError::Metadata {
        file: file.filename.to_string(),
        message: e.to_string(),
    })?;
    check_constraint_hash(constraints, name, &file.filename, &sha256)?;
    let (deps, requires_python) = wheel_metadata(&path, &file.filename)?;
    Ok(Fetched {
        path,
        sha256,
        deps,
        requires_python,
    })
}

/// Whether a Requires-Python value admits `python`. pip ignores a value it cannot parse
/// (with a warning) rather than rejecting the file, and so does this.
pub fn python_admitted(requires_python: &str, python: &Version) -> bool {
    VersionSpecifiers::from_str(requires_python).map_or(true, |specs| specs.contains(python))
}

/// pip evaluates the markers of build requirements (`[build-system].requires` and what
/// `get_requires_for_build_wheel` returns) for the build's interpreter with no extras, and
/// drops the ones that are false: `tomli ; python_version < "3.11"` is no requirement on 3.11.
fn applicable<'a>(
    roots: &'a [Requirement],
    interpreter: &'a Interpreter,
) -> impl Iterator<Item = Requirement> + 'a {
    roots
        .iter()
        .filter(|r| r.evaluate_markers(&interpreter.markers, &[]))
        // The marker stays on: errors then name the requirement as written.
        .cloned()
}

fn enqueue_deps(
    queue: &mut VecDeque<(Requirement, String)>,
    deps: &[Requirement],
    interpreter: &Interpreter,
    extras: &BTreeSet<ExtraName>,
    parent: &ResolvedWheel,
) {
    let extras: Vec<ExtraName> = extras.iter().cloned().collect();
    for dep in deps {
        if dep.evaluate_markers(&interpreter.markers, &extras) {
            let mut dep = dep.clone();
            dep.marker = Default::default();
            queue.push_back((dep, format!("{} {}", parent.name, parent.version)));
        }
    }
}

/// The wheels for `name` under `specs`, best first (newest version, then best tag rank), or
/// why there is none.
fn pick<'a>(
    files: &'a [IndexFile],
    name: &PackageName,
    specs: &[(VersionSpecifiers, String)],
    interpreter: &Interpreter,
    constraints: &[BuildConstraint],
) -> Result<Vec<(&'a IndexFile, WheelFilename)>, NoWheel> {
    let allow_pre = specs
        .iter()
        .flat_map(|(s, _)| s.iter())
        .any(|s| s.version().any_prerelease());
    let pin = constraints.iter().find(|c| &c.name == name);
    let python = &interpreter.markers.python_full_version().version;
    let mut fitting: Vec<(&IndexFile, WheelFilename, u32)> = Vec::new();
    let mut other_python: Vec<(Version, String)> = Vec::new();
    for file in files {
        let Ok(wheel) = WheelFilename::from_str(&file.filename) else {
            continue;
        };
        if &wheel.name != name || file.yanked.is_some() {
            continue;
        }
        if wheel.version.any_prerelease() && !allow_pre {
            continue;
        }
        if !specs.iter().all(|(s, _)| s.contains(&wheel.version)) {
            continue;
        }
        if pin.is_some_and(|p| p.version != wheel.version) {
            continue;
        }
        let Compatibility::Compatible(rank) = interpreter.tags.compatibility(&wheel) else {
            continue;
        };
        if let Some(rp) = file.requires_python.as_deref()
            && !python_admitted(rp, python)
        {
            other_python.push((wheel.version.clone(), rp.to_string()));
            continue;
        }
        fitting.push((file, wheel, rank));
    }
    fitting.sort_by(|(_, a, ra), (_, b, rb)| b.version.cmp(&a.version).then(ra.cmp(rb)));
    if !fitting.is_empty() {
        return Ok(fitting.into_iter().map(|(f, w, _)| (f, w)).collect());
    }
    other_python.dedup();
    Err(NoWheel::NoneFits {
        wanted: specs.to_vec(),
        pinned: pin.map(|p| p.version.clone()),
        python: python.clone(),
        other_python,
    })
}

/// Tell "only an sdist exists" apart from "nothing fits".
fn no_match(
    reason: NoWheel,
    req: &Requirement,
    from: &str,
    files: &[IndexFile],
    interpreter: &Interpreter,
) -> ResolveError {
    let has_wheel = files.iter().any(|f| f.filename.ends_with(".whl"));
    let has_sdist = files.iter().any(|f| {
        matches!(
            DistFilename::parse(&f.filename, &req.name),
            Some(DistFilename::Sdist(_))
        )
    });
    if has_sdist && !has_wheel {
        return ResolveError::SdistOnly {
            requirement: req.to_string(),
            origin: from.to_string(),
        };
    }
    let reason = if files.is_empty() {
        NoWheel::NothingPublished
    } else {
        reason
    };
    ResolveError::NoMatch {
        requirement: req.to_string(),
        origin: from.to_string(),
        interpreter: interpreter.label.clone(),
        reason: Box::new(reason),
    }
}

fn check_constraint_hash(
    constraints: &[BuildConstraint],
    name: &PackageName,
    file: &str,
    sha256: &str,
) -> Result<(), ResolveError> {
    if let Some(pin) = constraints.iter().find(|c| &c.name == name)
        && !pin.sha256.is_empty()
        && !pin.sha256.iter().any(|h| h.eq_ignore_ascii_case(sha256))
    {
        return Err(ResolveError::HashMismatch {
            file: file.to_string(),
            name: name.to_string(),
            actual: sha256.to_string(),
        });
    }
    Ok(())
}

/// Requires-Dist (parsed) and Requires-Python of a wheel on disk.
fn wheel_metadata(
    path: &Path,
    filename: &str,
) -> Result<(Vec<Requirement>, Option<String>), ResolveError> {
    let info = read_wheel(path).map_err(|e| ResolveError::Metadata {
        file: filename.to_string(),
        message: e.to_string(),
    })?;
    let deps = info
        .metadata
        .requires_dist
        .iter()
        .map(|line| {
            Requirement::from_str(line).map_err(|e| ResolveError::Metadata {
                file: filename.to_string(),
                message: format!("Requires-Dist `{line}`: {}", e.message),
            })
        })
        .collect::<Result<_, _>>()?;
    let requires_python = info
        .metadata
        .requires_python
        .map(|rp| rp.trim().to_string())
        .filter(|rp| !rp.is_empty());
    Ok((deps, requires_python))
}

/// A local directory of dists (`--find-links DIR`, test fixtures).
#[derive(Debug, Clone)]
pub struct FindLinksDir {
    pub dir: PathBuf,
}

impl FindLinksDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

impl WheelSource for FindLinksDir {
    fn list<'a>(
        &'a self,
        project: &'a PackageName,
    ) -> BoxFuture<'a, Result<Vec<IndexFile>, SourceError>> {
        Box::pin(async move {
            let all = crate::index::read_directory(&self.dir)
                .await
                .map_err(|e| SourceError::Message(e.to_string()))?;
            Ok(all
                .into_iter()
                .filter(|file| DistFilename::parse(&file.filename, project).is_some())
                .collect())
        })
    }

    fn fetch<'a>(&'a self, file: &'a IndexFile) -> BoxFuture<'a, Result<PathBuf, SourceError>> {
        Box::pin(async move {
            let path = file
                .url
                .to_file_path()
                .map_err(|_| SourceError::Message(format!("{} is not a local file", file.url)))?;
            if let Some(expected) = &file.sha256 {
                let actual = sha256_file(&path).map_err(|source| SourceError::Io {
                    what: format!("hash {}", path.display()),
                    source,
                })?;
                if !actual.eq_ignore_ascii_case(expected) {
                    return Err(SourceError::Message(format!(
                        "{}: sha256 {actual} does not match the listed {expected}",
                        path.display()
                    )));
                }
            }
            Ok(path)
        })
    }
}
