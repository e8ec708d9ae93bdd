//! The resolver's [`MetadataSource`] over a real upstream: listings from the index sources
//! (fetched concurrently on the solver's `prefetch` hint), the file pip would install for
//! each (version, interpreter) chosen by the planner's own selection, and its metadata
//! through [`MetadataFetcher`]. Which files count is decided per project and version
//! ([`ProjectOptions`]): pip applies `--only-binary` / `--no-binary` to every project it
//! resolves, dependencies included, and a `[package.NAME]` `build = false` means its sdists
//! are never built, so they cannot make a version installable from the target.
//!
//! The trait is synchronous (pubgrub's provider is): the solve runs on a blocking thread
//! (`spawn_blocking`) and each answer is awaited there with the runtime's `Handle`.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use super::failure::{Asked, SourceFailure};
use super::{MetadataFetcher, Obtained, PrepareSettings};
use crate::distribution::DistFilename;
use crate::index::{HttpClient, IndexError, IndexFile, Upstream};
use crate::interpreter::Interpreter;
use crate::package_settings::PackageSettings;
use crate::plan::select::{Interp, UpstreamChoice, choose_upstream, dists};
use crate::requirements::{PackageSelector, ParsedRequirements, allowed_formats};
use crate::resolve::listing::{Fit, candidates};
use crate::resolve::{Candidate, Fault, MetadataSource};

/// pip's `--only-binary` / `--no-binary` as they bear on which file's metadata counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceOptions {
    pub binary_allowed: bool,
    pub source_allowed: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        Self {
            binary_allowed: true,
            source_allowed: true,
        }
    }
}

/// What applies to each project the solver meets: pip's `--no-binary` / `--only-binary`
/// selectors (`FormatControl`, applied to dependencies as to roots), the `[package.NAME]`
/// settings (`build = false`; how an sdist's metadata is prepared) and the first written
/// line's `-C` settings of a project that is a root (what its build gets, see
/// `pipeline/build.rs`).
#[derive(Debug, Clone, Default)]
pub struct ProjectOptions {
    /// Applies to every project on top of the rest (tests, callers without requirements).
    base: SourceOptions,
    no_binary: PackageSelector,
    only_binary: PackageSelector,
    packages: Arc<PackageSettings>,
    config_settings: HashMap<PackageName, Vec<(String, String)>>,
}

impl From<SourceOptions> for ProjectOptions {
    fn from(base: SourceOptions) -> Self {
        ProjectOptions {
            base,
            ..ProjectOptions::default()
        }
    }
}

impl ProjectOptions {
    /// The options of a run: the requirements' `--no-binary` / `--only-binary` and `-C`
    /// settings, and the configuration's `[package.NAME]` tables.
    pub fn new(requirements: &ParsedRequirements, packages: Arc<PackageSettings>) -> Self {
        let mut config_settings = HashMap::new();
        for entry in &requirements.requirements {
            // The first line naming a project is the one its pinned line copies.
            config_settings
                .entry(entry.name().clone())
                .or_insert_with(|| entry.config_settings.clone());
        }
        ProjectOptions {
            base: SourceOptions::default(),
            no_binary: requirements.options.no_binary.clone(),
            only_binary: requirements.options.only_binary.clone(),
            packages,
            config_settings,
        }
    }

    /// Which kinds of file of `name` `version` count: pip's allowed formats, and no sdist
    /// when `build = false` applies to that version (it would never be built).
    pub fn formats(&self, name: &PackageName, version: &Version) -> SourceOptions {
        let allowed = allowed_formats(&self.no_binary, &self.only_binary, name);
        let buildable = self.packages.for_build(name, version).no_build.is_none();
        SourceOptions {
            binary_allowed: self.base.binary_allowed && allowed.binary,
            source_allowed: self.base.source_allowed && allowed.source && buildable,
        }
    }

    /// How `name` `version`'s sdist is prepared: the settings its build gets (the line's
    /// `-C`, then the package's `config-settings`, in the pipeline's order).
    pub fn prepare(&self, name: &PackageName, version: &Version) -> PrepareSettings {
        let settings = self.packages.for_build(name, version);
        let line = self.config_settings.get(name).into_iter().flatten();
        let config_settings = crate::builder::config_settings(
            line.map(|(k, v)| (k.as_str(), v.as_str())).chain(
                settings
                    .config_settings
                    .iter()
                    .flat_map(|(k, values)| values.iter().map(move |v| (k.as_str(), v.as_str()))),
            ),
        );
        PrepareSettings {
            config_settings,
            settings,
        }
    }

    /// Whether `file` counts for `name` (a file that is no distribution of it is left for
    /// [`candidates`] to skip).
    fn counts(&self, name: &PackageName, file: &IndexFile) -> bool {
        match DistFilename::parse(&file.filename, name) {
            Some(DistFilename::Wheel(w)) => self.formats(name, &w.version).binary_allowed,
            Some(DistFilename::Sdist(s)) => self.formats(name, &s.version).source_allowed,
            None => true,
        }
    }

    /// The files of `name` that count.
    fn usable(&self, name: &PackageName, files: &[IndexFile]) -> Vec<IndexFile> {
        files
            .iter()
            .filter(|f| self.counts(name, f))
            .cloned()
            .collect()
    }
}

/// A project's listing: `None` when no source knows it (a 404).
type Files = Result<Option<Arc<Vec<IndexFile>>>, Arc<IndexError>>;

/// What one interpreter's solves cost: the figures `-v` prints and the JSON report's
/// `summary.resolution` holds, so that a change of heuristics can be measured.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResolutionCounts {
    /// Versions whose dependencies the solver asked for (uv's "versions visited").
    pub visited: u64,
    /// Of those, the METADATA not found in the cache: read from the index or a file, or
    /// prepared from an sdist.
    pub metadata_reads: u64,
    /// sdists whose metadata was prepared (`prepare_metadata_for_build_wheel`).
    pub sdist_metadata_builds: u64,
    /// What the solves learnt about their order (filled by the caller from the solutions):
    /// restarts, and the packages decided late and early.
    pub restarts: u64,
    pub decided_late: std::collections::BTreeSet<String>,
    pub decided_early: std::collections::BTreeSet<String>,
}

/// Listings and metadata for one interpreter.
pub struct IndexMetadataSource {
    handle: Handle,
    upstream: Arc<Upstream>,
    client: HttpClient,
    fetcher: MetadataFetcher,
    interpreter: Arc<Interpreter>,
    options: Arc<ProjectOptions>,
    listings: Mutex<HashMap<PackageName, Arc<OnceCell<Files>>>>,
    /// Versions whose METADATA Requires-Python excludes the interpreter, with why.
    excluded: Mutex<HashMap<(PackageName, Version), String>>,
    /// The tasks `prefetch` started.
    prefetching: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The versions asked for, and what that cost.
    visited: Mutex<HashSet<(PackageName, Version)>>,
    counts: Mutex<ResolutionCounts>,
}

impl IndexMetadataSource {
    pub fn new(
        handle: Handle,
        upstream: Arc<Upstream>,
        client: HttpClient,
        fetcher: MetadataFetcher,
        interpreter: Arc<Interpreter>,
        options: impl Into<ProjectOptions>,
    ) -> Self {
        Self {
            handle,
            upstream,
            client,
            fetcher,
            interpreter,
            options: Arc::new(options.into()),
            listings: Mutex::default(),
            excluded: Mutex::default(),
            prefetching: Mutex::default(),
            visited: Mutex::default(),
            counts: Mutex::default(),
        }
    }

    /// What the solves over this source cost so far.
    pub fn counts(&self) -> ResolutionCounts {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn count(&self, change: impl FnOnce(&mut ResolutionCounts)) {
        change(&mut self.counts.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Waits until every task `prefetch` started has finished (tests; a caller that wants
    /// the warm cache before it reports).
    pub fn wait_for_prefetch(&self) {
        let tasks =
            std::mem::take(&mut *self.prefetching.lock().unwrap_or_else(|e| e.into_inner()));
        for task in tasks {
            let _ = self.handle.block_on(task);
        }
    }

    fn cell(&self, name: &PackageName) -> Arc<OnceCell<Files>> {
        let mut listings = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(listings.entry(name.clone()).or_default())
    }

    fn listing_task(
        &self,
        name: &PackageName,
    ) -> impl Future<Output = Files> + Send + 'static + use<> {
        let (upstream, client, name) = (
            Arc::clone(&self.upstream),
            self.client.clone(),
            name.clone(),
        );
        async move {
            match upstream.project_files(&client, &name).await {
                Ok(files) => Ok(files.map(Arc::new)),
                Err(e) => Err(Arc::new(e)),
            }
        }
    }

    /// The listing of `name`. The upstream's probe comes first (it is asked once per run):
    /// when it fails the index is down and that stops the solve; a listing that fails after
    /// it answered concerns this project only.
    fn files(&self, name: &PackageName) -> Result<Arc<Vec<IndexFile>>, SourceFailure> {
        self.handle
            .block_on(self.upstream.check(&self.client))
            .map_err(|e| SourceFailure::Down(Arc::new(e)))?;
        let cell = self.cell(name);
        let task = self.listing_task(name);
        match self.handle.block_on(cell.get_or_init(|| task)).clone() {
            Ok(Some(files)) => Ok(files),
            Ok(None) => Err(SourceFailure::NotFound {
                name: name.clone(),
                sources: Asked::all(&self.upstream, name),
            }),
            Err(source) => Err(SourceFailure::Listing {
                name: name.clone(),
                source,
            }),
        }
    }

    async fn requires(
        &self,
        name: &PackageName,
        version: &Version,
        files: &[IndexFile],
    ) -> Result<Vec<Requirement>, SourceFailure> {
        let listed = dists(files, name);
        let interp = Interp {
            label: &self.interpreter.label,
            tags: &self.interpreter.tags,
            python_full_version: &self.interpreter.markers.python_full_version().version,
        };
        let fetch = |source| SourceFailure::Fetch {
            name: name.clone(),
            version: version.clone(),
            source: Box::new(source),
        };
        let formats = self.options.formats(name, version);
        // The solver offers a yanked version only for an exact pin, so its files count.
        let (file, metadata) = match choose_upstream(
            &listed,
            version,
            &interp,
            true,
            formats.binary_allowed,
            formats.source_allowed,
        ) {
            UpstreamChoice::Wheel(d) => (
                d.file,
                self.fetcher
                    .wheel(name, version, d.file)
                    .await
                    .map_err(fetch)?,
            ),
            UpstreamChoice::Sdist(d) => (
                d.file,
                self.fetcher
                    .sdist_with(
                        name,
                        version,
                        d.file,
                        &self.interpreter,
                        &self.options.prepare(name, version),
                    )
                    .await
                    .map_err(fetch)?,
            ),
            UpstreamChoice::Nothing(why) => {
                return Err(SourceFailure::NoFile {
                    name: name.clone(),
                    version: version.clone(),
                    why,
                });
            }
        };
        match metadata.obtained {
            Obtained::Cache => {}
            Obtained::Prepared(_) => self.count(|c| {
                c.metadata_reads += 1;
                c.sdist_metadata_builds += 1;
            }),
            _ => self.count(|c| c.metadata_reads += 1),
        }
        let python = &self.interpreter.markers.python_full_version().version;
        if let Some(rp) = &metadata.metadata.requires_python
            && !crate::version::python_admitted(rp, python)
        {
            let why = format!(
                "{} says Requires-Python `{rp}`, which excludes {} (Python {python})",
                file.filename, self.interpreter.label
            );
            self.excluded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((name.clone(), version.clone()), why);
        }
        metadata
            .metadata
            .requires_dist
            .iter()
            .map(|line| {
                let parse = crate::requirements::parse_requirement;
                parse(line)
                    .or_else(|e| match super::lenient::fixed(line) {
                        Some(fixed) => parse(&fixed).map_err(|_| e),
                        None => Err(e),
                    })
                    .map_err(|e| SourceFailure::BadRequirement {
                        name: name.clone(),
                        version: version.clone(),
                        file: file.filename.to_string(),
                        line: line.clone(),
                        message: e.message.to_string(),
                    })
            })
            .collect()
    }
}

impl MetadataSource for IndexMetadataSource {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, Fault> {
        let listed = self.files(name).map_err(SourceFailure::fault)?;
        let files = self.options.usable(name, &listed);
        // Which sdists count is the options' question, answered in `usable`.
        let fit = Fit {
            tags: &self.interpreter.tags,
            python_full_version: &self.interpreter.markers.python_full_version().version,
            sdists: true,
        };
        let found = candidates(&files, name, &fit);
        if found.is_empty() && !listed.is_empty() {
            let why = no_fit(name, &listed, &files, &self.interpreter);
            return Err(SourceFailure::NoFit { why }.fault());
        }
        Ok(found)
    }

    fn requires_dist(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Requirement>, Fault> {
        let first = self
            .visited
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((name.clone(), version.clone()));
        if first {
            self.count(|c| c.visited += 1);
        }
        let files = self.files(name).map_err(SourceFailure::fault)?;
        self.handle
            .block_on(self.requires(name, version, &files))
            .map_err(SourceFailure::fault)
    }

    fn unusable(&self, name: &PackageName, version: &Version) -> Option<String> {
        let excluded = self.excluded.lock().unwrap_or_else(|e| e.into_inner());
        excluded.get(&(name.clone(), version.clone())).cloned()
    }

    /// Starts the listings of `names` on the runtime; `candidates` later awaits the same
    /// cells, so each listing is fetched once. Then the METADATA of each project's newest
    /// wheel (the version the solver tries first) goes into the metadata cache, so that its
    /// `requires_dist` finds it there (uv guesses the same way).
    fn prefetch(&self, names: &[PackageName]) {
        for name in names {
            let cell = self.cell(name);
            if cell.initialized() {
                continue;
            }
            let task = self.listing_task(name);
            let warm = Warm {
                fetcher: self.fetcher.clone(),
                interpreter: Arc::clone(&self.interpreter),
                options: Arc::clone(&self.options),
                name: name.clone(),
            };
            let handle = self.handle.spawn(async move {
                if let Ok(Some(files)) = cell.get_or_init(|| task).await {
                    warm.newest(files).await;
                }
            });
            self.prefetching
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle);
        }
    }
}

/// Why none of the files listed for `name` makes a candidate for `interpreter`: the files the
/// run's options leave out (`--only-binary`, `--no-binary`, `build = false`), and of the
/// others how many wheels are for other tags and how many files' Requires-Python excludes it.
fn no_fit(
    name: &PackageName,
    listed: &[IndexFile],
    counted: &[IndexFile],
    interpreter: &Interpreter,
) -> String {
    let python = &interpreter.markers.python_full_version().version;
    let left_out = listed.len() - counted.len();
    let mut python_excluded = 0;
    let mut other_tags = 0;
    for file in counted {
        let admitted = file.requires_python.as_deref().is_none_or(|rp| {
            pep440_rs::VersionSpecifiers::from_str(rp).map_or(true, |s| s.contains(python))
        });
        if !admitted {
            python_excluded += 1;
        } else if let Some(DistFilename::Wheel(_)) = DistFilename::parse(&file.filename, name) {
            other_tags += 1;
        }
    }
    let mut parts = Vec::new();
    if left_out > 0 {
        parts.push(format!(
            "{left_out} left out by --only-binary, --no-binary or build = false"
        ));
    }
    if other_tags > 0 {
        parts.push(format!(
            "{other_tags} wheels for other platforms or Pythons than {}'s tags",
            interpreter.label
        ));
    }
    if python_excluded > 0 {
        parts.push(format!(
            "{python_excluded} whose Requires-Python excludes Python {python}"
        ));
    }
    format!(
        "no file of {name} fits {}: of {} files, {}",
        interpreter.label,
        listed.len(),
        parts.join(", ")
    )
}

/// What a prefetch task needs to warm the metadata cache for one project.
struct Warm {
    fetcher: MetadataFetcher,
    interpreter: Arc<Interpreter>,
    options: Arc<ProjectOptions>,
    name: PackageName,
}

impl Warm {
    /// The newest final release with a wheel that fits, when the listing gives its sha256
    /// (the cache key). Errors are left for the solver's own question to report.
    async fn newest(&self, files: &[IndexFile]) {
        let python = &self.interpreter.markers.python_full_version().version;
        let fit = Fit {
            tags: &self.interpreter.tags,
            python_full_version: python,
            sdists: false,
        };
        let files = self.options.usable(&self.name, files);
        let Some(newest) = candidates(&files, &self.name, &fit)
            .into_iter()
            .filter(|c| !c.yanked && !c.version.any_prerelease())
            .map(|c| c.version)
            .max()
        else {
            return;
        };
        let listed = dists(&files, &self.name);
        let interp = Interp {
            label: &self.interpreter.label,
            tags: &self.interpreter.tags,
            python_full_version: python,
        };
        if let UpstreamChoice::Wheel(d) = choose_upstream(
            &listed,
            &newest,
            &interp,
            false,
            self.options.formats(&self.name, &newest).binary_allowed,
            false,
        ) && d.file.sha256.is_some()
        {
            let _ = self.fetcher.wheel(&self.name, &newest, d.file).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::builder::ConfigValue;

    fn name(text: &str) -> PackageName {
        PackageName::from_str(text).unwrap()
    }

    fn version(text: &str) -> Version {
        Version::from_str(text).unwrap()
    }

    fn options(requirements: &str, settings: &str) -> ProjectOptions {
        let dir = tempfile::tempdir().unwrap();
        let lookup = |_: &str| None;
        let parsed =
            crate::requirements::parse_str(requirements, &dir.path().join("r.txt"), &lookup)
                .unwrap();
        let packages =
            PackageSettings::parse(settings, &dir.path().join("wheelwright.toml")).unwrap();
        ProjectOptions::new(&parsed, Arc::new(packages))
    }

    fn formats(binary_allowed: bool, source_allowed: bool) -> SourceOptions {
        SourceOptions {
            binary_allowed,
            source_allowed,
        }
    }

    #[test]
    fn pips_format_control_applies_to_every_project_by_name() {
        let all = options("--only-binary :all:\n--no-binary dep\nroot\n", "");
        let v = version("1.0");
        // `--no-binary dep` after `:all:` takes dep out of `--only-binary` (pip's rule).
        assert_eq!(all.formats(&name("other"), &v), formats(true, false));
        assert_eq!(all.formats(&name("dep"), &v), formats(false, true));
        let none = options("root\n", "");
        assert_eq!(none.formats(&name("other"), &v), formats(true, true));
    }

    #[test]
    fn build_false_takes_the_sdists_of_its_versions_out() {
        let settings = "[package.dep]\nversions = \"<2\"\nbuild = false\nreason = \"no\"\n";
        let options = options("root\n", settings);
        assert_eq!(
            options.formats(&name("dep"), &version("1.0")),
            formats(true, false)
        );
        assert_eq!(
            options.formats(&name("dep"), &version("2.0")),
            formats(true, true)
        );
    }

    #[test]
    fn metadata_is_prepared_with_the_lines_and_the_packages_settings() {
        let settings = "[package.root]\nconfig-settings = { b = \"2\" }\nenv = { X = \"1\" }\n";
        let options = options("root -C a=1\nroot==2 -C a=9\n", settings);
        let prepare = options.prepare(&name("root"), &version("1.0"));
        assert_eq!(
            prepare.config_settings,
            crate::builder::ConfigSettings::from([
                ("a".to_string(), ConfigValue::Str("1".into())),
                ("b".to_string(), ConfigValue::Str("2".into())),
            ])
        );
        assert_eq!(prepare.settings.env["X"], "1");
        assert!(!prepare.key().is_empty());
        // No settings, no `-C`: the key of the sdist alone, as before settings counted.
        let plain = options.prepare(&name("dep"), &version("1.0"));
        assert_eq!(plain, PrepareSettings::default());
        assert!(plain.key().is_empty());
    }
}
