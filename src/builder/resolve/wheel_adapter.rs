//! The solver's [`MetadataSource`] over a [`WheelSource`], for one interpreter, wheels only.
//!
//! The solver is synchronous (pubgrub's provider is) and runs on a blocking thread; the
//! `WheelSource` is async and only borrowed by the caller, so it cannot move to that thread.
//! The adapter therefore asks [`Question`]s over a channel and waits for the answer
//! (`blocking_recv`), and the caller's task answers them with the borrowed source. The
//! caller's task never blocks, so this holds on a `current_thread` runtime (unit tests) as
//! well as on the multi-thread one, where `block_in_place` would be needed otherwise.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{PackageName, Requirement};
use tokio::sync::{mpsc, oneshot};

use super::{BuildConstraint, BuildRequiresError, WheelSource, WheelSourceError};
use crate::distribution::{Compatibility, WheelFilename, read_wheel, sha256_file};
use crate::index::IndexFile;
use crate::interpreter::Interpreter;
use crate::resolve::listing::{Fit, candidates};
use crate::resolve::{Candidate, MetadataSource};

/// What the solver's thread asks the caller's task to do with the `WheelSource`.
pub(super) enum Question {
    List {
        name: PackageName,
        reply: oneshot::Sender<Result<Vec<IndexFile>, WheelSourceError>>,
    },
    Fetch {
        file: Box<IndexFile>,
        reply: oneshot::Sender<Result<PathBuf, WheelSourceError>>,
    },
}

impl Question {
    pub(super) async fn answer(self, source: &dyn WheelSource) {
        // A send fails only when the solver stopped waiting (it failed or finished):
        // nobody needs the answer then.
        match self {
            Question::List { name, reply } => {
                let _ = reply.send(source.list(&name).await);
            }
            Question::Fetch { file, reply } => {
                let _ = reply.send(source.fetch(&file).await);
            }
        }
    }
}

/// A downloaded wheel with its metadata.
pub(super) struct Fetched {
    pub filename: WheelFilename,
    pub path: PathBuf,
    pub sha256: String,
    pub deps: Vec<Requirement>,
}

/// The wheel of one version that provisioning would install, or why there is none.
pub(super) enum Pick {
    Wheel(Box<Fetched>),
    /// Every fitting wheel of the version has a METADATA Requires-Python that excludes the
    /// interpreter (its listing gave none): `filename (Requires-Python `spec`)` each.
    Excluded(Vec<String>),
}

type Listed = oneshot::Receiver<Result<Vec<IndexFile>, WheelSourceError>>;

pub(super) struct BuildSource<'a> {
    asks: mpsc::UnboundedSender<Question>,
    pub interpreter: &'a Interpreter,
    constraints: &'a [BuildConstraint],
    listings: RefCell<HashMap<PackageName, Rc<Vec<IndexFile>>>>,
    /// Listings asked for by `prefetch`, not read yet.
    pending: RefCell<HashMap<PackageName, Listed>>,
    picks: RefCell<HashMap<(PackageName, Version), Rc<Pick>>>,
}

impl<'a> BuildSource<'a> {
    pub(super) fn new(
        asks: mpsc::UnboundedSender<Question>,
        interpreter: &'a Interpreter,
        constraints: &'a [BuildConstraint],
    ) -> Self {
        Self {
            asks,
            interpreter,
            constraints,
            listings: RefCell::default(),
            pending: RefCell::default(),
            picks: RefCell::default(),
        }
    }

    pub(super) fn python(&self) -> &Version {
        &self.interpreter.markers.python_full_version().version
    }

    /// Wheels only: build requirements are installed, never built (no build recursion).
    pub(super) fn fit(&self) -> Fit<'_> {
        Fit {
            tags: &self.interpreter.tags,
            python_full_version: self.python(),
            sdists: false,
        }
    }

    pub(super) fn pin(&self, name: &PackageName) -> Option<&BuildConstraint> {
        self.constraints.iter().find(|c| &c.name == name)
    }

    fn ask_listing(&self, name: &PackageName) -> Option<Listed> {
        let (reply, answer) = oneshot::channel();
        let question = Question::List {
            name: name.clone(),
            reply,
        };
        self.asks.send(question).ok().map(|()| answer)
    }

    /// Every file published for `name` (asked once per solve).
    pub(super) fn listing(
        &self,
        name: &PackageName,
    ) -> Result<Rc<Vec<IndexFile>>, BuildRequiresError> {
        if let Some(files) = self.listings.borrow().get(name) {
            return Ok(files.clone());
        }
        let pending = self.pending.borrow_mut().remove(name);
        let answer = pending
            .or_else(|| self.ask_listing(name))
            .and_then(|answer| answer.blocking_recv().ok());
        let files = match answer {
            Some(Ok(files)) => Rc::new(files),
            Some(Err(source)) => {
                return Err(BuildRequiresError::List {
                    name: name.to_string(),
                    source,
                });
            }
            None => {
                return Err(BuildRequiresError::List {
                    name: name.to_string(),
                    source: abandoned(),
                });
            }
        };
        self.listings
            .borrow_mut()
            .insert(name.clone(), files.clone());
        Ok(files)
    }

    /// What [`Self::pick`] found for `name` at `version`, if it was asked.
    pub(super) fn known(&self, name: &PackageName, version: &Version) -> Option<Rc<Pick>> {
        self.picks
            .borrow()
            .get(&(name.clone(), version.clone()))
            .cloned()
    }

    /// Every version picked so far, sorted.
    pub(super) fn picked(&self) -> Vec<((PackageName, Version), Rc<Pick>)> {
        let mut all: Vec<_> = self
            .picks
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|(a, _), (b, _)| a.cmp(b));
        all
    }

    /// The wheel of `name` at `version` to install: best first (non-yanked, then the
    /// interpreter's tag order), each downloaded at most once per solve. A wheel whose
    /// listing gives no Requires-Python (a find-links directory, an index without
    /// `data-requires-python`) is judged by its METADATA before it is installed, as pip
    /// does; the download is the one provisioning needs anyway.
    pub(super) fn pick(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Rc<Pick>, BuildRequiresError> {
        if let Some(known) = self.known(name, version) {
            return Ok(known);
        }
        let files = self.listing(name)?;
        let python = self.python();
        let mut fitting: Vec<(&IndexFile, WheelFilename, u32)> = files
            .iter()
            .filter_map(|file| {
                let wheel = WheelFilename::from_str(&file.filename).ok()?;
                if &wheel.name != name || &wheel.version != version {
                    return None;
                }
                let Compatibility::Compatible(rank) = self.interpreter.tags.compatibility(&wheel)
                else {
                    return None;
                };
                let listed_ok = file
                    .requires_python
                    .as_deref()
                    .is_none_or(|rp| crate::version::python_admitted(rp, python));
                listed_ok.then_some((file, wheel, rank))
            })
            .collect();
        fitting.sort_by_key(|(file, _, rank)| (file.yanked.is_some(), *rank));
        let mut excluded = Vec::new();
        let mut found = None;
        for (file, filename, _) in fitting {
            let (fetched, requires_python) = self.fetch(file, filename, name)?;
            if file.requires_python.is_none()
                && let Some(rp) = requires_python
                && !crate::version::python_admitted(&rp, python)
            {
                excluded.push(format!("{} (Requires-Python `{rp}`)", file.filename));
                continue;
            }
            found = Some(fetched);
            break;
        }
        let pick = Rc::new(match found {
            Some(fetched) => Pick::Wheel(Box::new(fetched)),
            None => Pick::Excluded(excluded),
        });
        self.picks
            .borrow_mut()
            .insert((name.clone(), version.clone()), pick.clone());
        Ok(pick)
    }

    /// Download (or locate) a wheel, check it against `--build-constraints`, read its
    /// METADATA: the Requires-Dist and the Requires-Python.
    fn fetch(
        &self,
        file: &IndexFile,
        filename: WheelFilename,
        name: &PackageName,
    ) -> Result<(Fetched, Option<String>), BuildRequiresError> {
        let (reply, answer) = oneshot::channel();
        let question = Question::Fetch {
            file: Box::new(file.clone()),
            reply,
        };
        let answer = self
            .asks
            .send(question)
            .ok()
            .and_then(|()| answer.blocking_recv().ok())
            .unwrap_or_else(|| Err(abandoned()));
        let path = answer.map_err(|source| BuildRequiresError::Fetch {
            file: file.filename.to_string(),
            source,
        })?;
        let sha256 = sha256_file(&path).map_err(|e| BuildRequiresError::Metadata {
            file: file.filename.to_string(),
            message: e.to_string(),
        })?;
        check_constraint_hash(self.pin(name), &file.filename, &sha256)?;
        let (deps, requires_python) = wheel_metadata(&path, &file.filename)?;
        let fetched = Fetched {
            filename,
            path,
            sha256,
            deps,
        };
        Ok((fetched, requires_python))
    }
}

/// The caller's task stopped answering: its future was dropped (the build was cancelled).
fn abandoned() -> WheelSourceError {
    WheelSourceError::Cancelled
}

/// The adapter's errors travel through the solver boxed, and come back out by downcast.
fn boxed(e: BuildRequiresError) -> crate::resolve::SourceError {
    Box::new(e)
}

impl MetadataSource for BuildSource<'_> {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, crate::resolve::Fault> {
        let files = self.listing(name).map_err(boxed)?;
        Ok(candidates(&files, name, &self.fit()))
    }

    fn requires_dist(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, crate::resolve::Fault> {
        Ok(match &*self.pick(name, version).map_err(boxed)? {
            Pick::Wheel(wheel) => wheel.deps.clone(),
            // `unusable` rules the version out; it has no edges worth following.
            Pick::Excluded(_) => Vec::new(),
        })
    }

    /// pip judges a file whose listing gives no Requires-Python by its METADATA: the
    /// solver then tries an older version.
    fn unusable(&self, name: &PackageName, version: &Version) -> Option<String> {
        match &*self.known(name, version)? {
            // Not reached: a candidate has a fitting wheel, by the same filter.
            Pick::Excluded(files) if files.is_empty() => Some("no wheel of it fits".to_string()),
            Pick::Excluded(files) => Some(format!(
                "the METADATA of {} excludes Python {}",
                files.join(", "),
                self.python()
            )),
            Pick::Wheel(_) => None,
        }
    }

    /// Ask for the listings now; the caller's task answers them concurrently.
    fn prefetch(&self, names: &[PackageName]) {
        for name in names {
            if self.listings.borrow().contains_key(name) || self.pending.borrow().contains_key(name)
            {
                continue;
            }
            if let Some(answer) = self.ask_listing(name) {
                self.pending.borrow_mut().insert(name.clone(), answer);
            }
        }
    }
}

fn check_constraint_hash(
    pin: Option<&BuildConstraint>,
    file: &str,
    sha256: &str,
) -> Result<(), BuildRequiresError> {
    if let Some(pin) = pin
        && !pin.sha256.is_empty()
        && !pin.sha256.iter().any(|h| h.eq_ignore_ascii_case(sha256))
    {
        return Err(BuildRequiresError::HashMismatch {
            file: file.to_string(),
            name: pin.name.to_string(),
            actual: sha256.to_string(),
        });
    }
    Ok(())
}

/// Requires-Dist (parsed) and Requires-Python of a wheel on disk.
fn wheel_metadata(
    path: &Path,
    filename: &str,
) -> Result<(Vec<Requirement>, Option<String>), BuildRequiresError> {
    let info = read_wheel(path).map_err(|e| BuildRequiresError::Metadata {
        file: filename.to_string(),
        message: e.to_string(),
    })?;
    let deps = info
        .metadata
        .requires_dist
        .iter()
        .map(|line| {
            crate::requirements::parse_requirement(line).map_err(|e| BuildRequiresError::Metadata {
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

/// The specifiers of an index requirement (`*` when it has none).
pub(super) fn specifiers(req: &Requirement) -> VersionSpecifiers {
    match &req.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => s.clone(),
        _ => VersionSpecifiers::empty(),
    }
}
