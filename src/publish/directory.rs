//! The local-directory target: wheels side by side, plus a PEP 503 `simple/` tree that pip
//! can use with `--index-url file:///.../simple/` (or the directory with `--find-links`).
//!
//! Safe when two runs write at once: a wheel is placed with a hard link from a temp file
//! (fails instead of overwriting, so a conflict is seen, never hidden), a project's page is
//! updated under that project's lock and the root page under the root's, each written to a
//! temp file and renamed. The cost of a placement is the project's files, never the
//! directory's: the project's page is its own record, and the root page is written once per
//! run.
//!
//! The directory is meant to be served (nginx, Apache, `python -m http.server`) by a user
//! other than the one who fills it: wheels and pages are created `0644` and directories
//! `0755`, within the user's umask. The modes are passed at creation so the kernel applies the
//! umask; a temp file's default `0600` would make a web server's workers answer 403.

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use pep508_rs::PackageName;

use super::upload::{UploadError, UploadOutcome};
use crate::distribution::{SafeFilename, sha256_file};
use crate::store::StoredFile;

/// Mode of every file written (`& !umask`, by the kernel).
const FILE_MODE: u32 = 0o644;
/// Mode of every directory created (`& !umask`, by the kernel).
const DIR_MODE: u32 = 0o755;

/// `mkdir -p` with [`DIR_MODE`] for each directory it creates; existing ones keep their mode.
fn create_dirs(path: &Path) -> Result<(), UploadError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)
        .map_err(io(path))
}

/// A temp file in `dir` (so that the link or rename into place stays on one filesystem and is
/// atomic), created with [`FILE_MODE`]: the placed file is this inode, so its mode is the
/// mode readers see.
fn temp_file(dir: &Path, prefix: &str) -> Result<tempfile::NamedTempFile, UploadError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)
        .map_err(io(dir))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UploadError + '_ {
    move |source| UploadError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What placing a wheel did.
pub(crate) struct Placed {
    pub outcome: UploadOutcome,
    /// Whether the directory's root page has to name a project it may not name yet.
    pub root_stale: bool,
}

/// Places `file` into `dir` and brings the project's simple page up to date. `known` are the
/// project's files in `dir` as this run's listing found them (wheels copied in by hand get
/// onto the page too). Blocking: call it from `spawn_blocking`.
pub(crate) fn place(
    dir: &Path,
    project: &PackageName,
    file: &StoredFile,
    known: &[SafeFilename],
) -> Result<Placed, UploadError> {
    create_dirs(dir)?;
    // A `SafeFilename` is one path component: the wheel lands in `dir`, nowhere else.
    let dest = dir.join(file.filename.as_path());
    let outcome = if dest.exists() {
        existing_outcome(dir, &dest, file)?
    } else {
        // A copy, never a link to the store's file: that one is private to the cache (0600)
        // and must not be shared with, or take its mode from, a served directory.
        let mut tmp = temp_file(dir, ".incoming-")?;
        let mut source = fs::File::open(&file.path).map_err(io(&file.path))?;
        std::io::copy(&mut source, tmp.as_file_mut()).map_err(io(&dest))?;
        tmp.as_file().sync_all().map_err(io(&dest))?;
        match fs::hard_link(tmp.path(), &dest) {
            Ok(()) => UploadOutcome::Uploaded,
            // Another run placed it between our check and our link.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                existing_outcome(dir, &dest, file)?
            }
            Err(e) => return Err(io(&dest)(e)),
        }
    };
    let root_stale = update_project_page(dir, project, file, known)?;
    Ok(Placed {
        outcome,
        root_stale,
    })
}

fn existing_outcome(
    dir: &Path,
    dest: &Path,
    file: &StoredFile,
) -> Result<UploadOutcome, UploadError> {
    let existing = sha256_file(dest).map_err(io(dest))?;
    if file.sha256.matches(&existing) {
        widen_legacy_mode(dest)?;
        Ok(UploadOutcome::AlreadyPresent)
    } else {
        Err(UploadError::Conflict {
            url: dir.display().to_string(),
            filename: file.filename.to_string(),
            existing,
            ours: file.sha256.to_string(),
        })
    }
}

/// [`widen_legacy_mode`] for every wheel in `dir`.
///
/// Earlier wheelwright versions wrote the directory's wheels `0600`, which a web server's
/// workers cannot read. A wheel of ours found with exactly that mode is widened to what a new
/// one gets (`0644` within the umask); any other mode is the admin's choice and is kept.
pub(crate) fn widen_legacy_modes(dir: &Path) -> Result<(), UploadError> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(()); // not created yet: nothing to widen
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "whl")
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            widen_legacy_mode(&path)?;
        }
    }
    Ok(())
}

fn widen_legacy_mode(dest: &Path) -> Result<(), UploadError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = fs::metadata(dest).map_err(io(dest))?;
    if meta.mode() & 0o777 != 0o600 || meta.uid() != rustix::process::geteuid().as_raw() {
        return Ok(());
    }
    let mode = FILE_MODE & !current_umask();
    fs::set_permissions(dest, fs::Permissions::from_mode(mode)).map_err(io(dest))
}

/// The process umask, read without changing it (`/proc/self/status`, Linux ≥ 4.7); the common
/// `022` where it cannot be read.
fn current_umask() -> u32 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Umask:"))
                .and_then(|value| u32::from_str_radix(value.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// An exclusive `flock` on `path` (created `0644`), held until the file is dropped.
fn lock(path: &Path) -> Result<fs::File, UploadError> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io(path))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io(path)(std::io::Error::from(e)))?;
    Ok(file)
}

/// Adds `added` to `simple/<project>/index.html`, under that project's lock
/// (`simple/<project>/.lock`), so runs writing other projects never wait for it. The page is
/// its own record: its links (with their sha256, which is then never computed again) are
/// kept while their files exist, `known` files it lacks are hashed and added, and the page
/// is rewritten only when that changes it. The cost is the project's files, not the
/// directory's. Returns whether the project's page is new (the root page lacks it).
fn update_project_page(
    dir: &Path,
    project: &PackageName,
    added: &StoredFile,
    known: &[SafeFilename],
) -> Result<bool, UploadError> {
    let project_dir = dir.join("simple").join(project.as_ref());
    let new_project = !project_dir.is_dir();
    create_dirs(&project_dir)?;
    let _lock = lock(&project_dir.join(".lock"))?;
    let page_path = project_dir.join("index.html");
    let listed = listed_files(&page_path);
    let mut files: BTreeMap<SafeFilename, String> = listed
        .iter()
        .filter(|(name, _)| is_file(&dir.join(name.as_path())))
        .map(|(name, hash)| (name.clone(), hash.clone()))
        .collect();
    for name in known {
        let path = dir.join(name.as_path());
        if !files.contains_key(name) && is_file(&path) {
            files.insert(name.clone(), sha256_file(&path).map_err(io(&path))?);
        }
    }
    files.insert(added.filename.clone(), added.sha256.to_string());
    if files != listed {
        write_atomically(&page_path, project_page(project, &files).as_bytes())?;
    }
    Ok(new_project)
}

fn is_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// The links of a page this module wrote: file name to sha256. A page that cannot be read
/// or parsed lists nothing (it is written anew from what is known).
fn listed_files(page: &Path) -> BTreeMap<SafeFilename, String> {
    let (Ok(body), Ok(url)) = (fs::read_to_string(page), url::Url::from_file_path(page)) else {
        return BTreeMap::new();
    };
    let Ok(listing) = crate::index::simple::parse_html(&body, &url) else {
        return BTreeMap::new();
    };
    listing
        .files
        .into_iter()
        .filter_map(|file| Some((file.filename, file.sha256?.to_string())))
        .collect()
}

fn project_page(project: &PackageName, files: &BTreeMap<SafeFilename, String>) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for {project}</title></head><body>\n<h1>Links for {project}</h1>\n"
    );
    for (name, hash) in files {
        let name = escape(name.as_str());
        page.push_str(&format!(
            "<a href=\"../../{name}#sha256={hash}\">{name}</a><br>\n"
        ));
    }
    page.push_str("</body></html>\n");
    page
}

/// Rewrites `simple/index.html` from the project directories under `simple/`, under
/// `simple/.lock`: once per run that placed a wheel (a page per placement would make a fill
/// of N projects cost N²). Two runs at once each write it after their last placement, and
/// the later one lists both runs' projects.
pub(crate) fn write_root_page(dir: &Path) -> Result<(), UploadError> {
    let simple = dir.join("simple");
    create_dirs(&simple)?;
    let _lock = lock(&simple.join(".lock"))?;
    let mut names: Vec<String> = fs::read_dir(&simple)
        .map_err(io(&simple))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut root = String::from(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Simple index</title></head><body>\n",
    );
    for name in &names {
        root.push_str(&format!("<a href=\"{0}/\">{0}</a><br>\n", escape(name)));
    }
    root.push_str("</body></html>\n");
    write_atomically(&simple.join("index.html"), root.as_bytes())
}

fn write_atomically(path: &Path, content: &[u8]) -> Result<(), UploadError> {
    let dir: PathBuf = path
        .parent()
        .expect("page paths have parents")
        .to_path_buf();
    let mut tmp = temp_file(&dir, ".page-")?;
    tmp.write_all(content).map_err(io(path))?;
    // On disk before the rename, so a crash never leaves an empty page in place.
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
