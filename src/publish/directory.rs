//! The local-directory target: wheels side by side, each wheel's PEP 658 metadata file
//! beside it, plus a `simple/` tree in both forms of the simple API (PEP 503 HTML, PEP 691
//! JSON; pages.rs) that pip can use with `--index-url file:///.../simple/` (or the directory
//! with `--find-links`), and that a web server serves by the `Accept` header.
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

use std::fs::{self, DirBuilder, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use pep508_rs::PackageName;
use sha2::Digest;

use super::pages::{self, PageFile, PageFiles};
use super::upload::{UploadError, UploadOutcome};
use crate::distribution::{
    CoreMetadata, DistFilename, SafeFilename, Sha256, read_wheel_metadata_bytes, sha256_file,
};
use crate::store::StoredFile;
use crate::timestamp::Timestamp;

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

/// Adds `added` to the project's pages (`simple/<project>/index.html` and `index.json`),
/// under that project's lock (`simple/<project>/.lock`), so runs writing other projects never
/// wait for it. The JSON page is its own record (pages.rs): its entries (with their sha256,
/// which is then never computed again) are kept while their files exist, `known` files it
/// lacks are hashed and added, entries it lacks a field of are completed (a wheel's PEP 658
/// metadata file is written beside it), and the pages are rewritten only when that changes
/// them. The cost is the project's files, not the directory's. Returns whether the project's
/// page is new (the root page lacks it).
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
    let listed = pages::read(&project_dir);
    let mut files = PageFiles::new();
    for (name, file) in &listed {
        if is_file(&dir.join(name.as_path())) {
            files.insert(name.clone(), complete(dir, project, name, file.clone())?);
        } else {
            // Gone by hand: its metadata file goes with it (best effort: a leftover is
            // never listed, so it misleads no installer).
            let _ = fs::remove_file(metadata_path(dir, name));
        }
    }
    let mut add = |name: &SafeFilename, sha256: Option<&Sha256>| -> Result<(), UploadError> {
        let path = dir.join(name.as_path());
        if files.contains_key(name) || !is_file(&path) {
            return Ok(());
        }
        let sha256 = match sha256 {
            Some(hash) => hash.clone(),
            None => hashed(&path)?,
        };
        let file = PageFile {
            sha256,
            size: None,
            upload_time: None,
            requires_python: None,
            core_metadata: None,
        };
        files.insert(name.clone(), complete(dir, project, name, file)?);
        Ok(())
    };
    add(&added.filename, Some(&added.sha256))?;
    for name in known {
        add(name, None)?;
    }
    if files != listed || !project_dir.join("index.json").is_file() {
        // The metadata files are in place before a page names them.
        write_atomically(
            &project_dir.join("index.json"),
            pages::project_json(project, &files).as_bytes(),
        )?;
        write_atomically(
            &project_dir.join("index.html"),
            pages::project_html(project, &files).as_bytes(),
        )?;
    }
    Ok(new_project)
}

fn hashed(path: &Path) -> Result<Sha256, UploadError> {
    let hex = sha256_file(path).map_err(io(path))?;
    Ok(Sha256::new(&hex).expect("sha256_file gives 64 hex digits"))
}

/// Fills what an entry lacks: PEP 700's size and upload time (the file's modification time:
/// when it was placed, since a placed file is never written again), and for a wheel its PEP
/// 658 metadata file, `<wheel>.metadata`, holding the bytes of its `.dist-info/METADATA`
/// exactly, with that file's sha256 and the `Requires-Python` it states. A wheel placed by an
/// older wheelwright gets its metadata file here, the next time its project's page is
/// written. A wheel whose METADATA cannot be read is listed without one, as before.
fn complete(
    dir: &Path,
    project: &PackageName,
    name: &SafeFilename,
    mut file: PageFile,
) -> Result<PageFile, UploadError> {
    let path = dir.join(name.as_path());
    if file.size.is_none() || file.upload_time.is_none() {
        let meta = fs::metadata(&path).map_err(io(&path))?;
        file.size.get_or_insert(meta.len());
        if file.upload_time.is_none() {
            file.upload_time = meta.modified().ok().map(Timestamp::from_system_time);
        }
    }
    let is_wheel = matches!(
        DistFilename::parse(name, project),
        Some(DistFilename::Wheel(_))
    );
    let metadata = metadata_path(dir, name);
    if is_wheel && (file.core_metadata.is_none() || !is_file(&metadata)) {
        match read_wheel_metadata_bytes(&path) {
            Ok(bytes) => {
                write_atomically(&metadata, &bytes)?;
                let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
                file.core_metadata = Some(Sha256::from_digest(&digest));
                file.requires_python = CoreMetadata::parse(&bytes)
                    .ok()
                    .and_then(|m| m.requires_python)
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty());
            }
            Err(_) => file.core_metadata = None,
        }
    }
    Ok(file)
}

/// PEP 658: the metadata file is the distribution's URL with `.metadata` appended.
fn metadata_path(dir: &Path, name: &SafeFilename) -> PathBuf {
    dir.join(format!("{name}.metadata"))
}

fn is_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// Rewrites `simple/index.html` and `simple/index.json` from the project directories under
/// `simple/`, under `simple/.lock`: once per run that placed a wheel (a page per placement
/// would make a fill of N projects cost N²). Two runs at once each write it after their
/// last placement, and the later one lists both runs' projects.
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
    write_atomically(
        &simple.join("index.json"),
        pages::root_json(&names).as_bytes(),
    )?;
    write_atomically(
        &simple.join("index.html"),
        pages::root_html(&names).as_bytes(),
    )
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

#[cfg(test)]
mod tests;
