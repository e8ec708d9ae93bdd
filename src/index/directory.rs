//! The local-directory target: wheels side by side, plus a PEP 503 `simple/` tree that pip
//! can use with `--index-url file:///.../simple/` (or the directory with `--find-links`).
//!
//! Safe when two runs write at once: a wheel is placed with a hard link from a temp file
//! (fails instead of overwriting, so a conflict is seen, never hidden), and the simple pages
//! are regenerated under an exclusive lock, each written to a temp file and renamed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use pep508_rs::PackageName;

use super::upload::{UploadError, UploadOutcome};
use crate::dist::{DistFilename, sha256_file};
use crate::store::StoredFile;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UploadError + '_ {
    move |source| UploadError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Places `file` into `dir` and refreshes the project's simple page. Blocking: call it from
/// `spawn_blocking`.
pub fn place(
    dir: &Path,
    project: &PackageName,
    file: &StoredFile,
) -> Result<UploadOutcome, UploadError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    // A `SafeFilename` is one path component: the wheel lands in `dir`, nowhere else.
    let dest = dir.join(file.filename.as_path());
    let outcome = if dest.exists() {
        existing_outcome(dir, &dest, file)?
    } else {
        let mut tmp = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(dir)
            .map_err(io(dir))?;
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
    regenerate_simple(dir, project)?;
    Ok(outcome)
}

fn existing_outcome(
    dir: &Path,
    dest: &Path,
    file: &StoredFile,
) -> Result<UploadOutcome, UploadError> {
    let existing = sha256_file(dest).map_err(io(dest))?;
    if file.sha256.matches(&existing) {
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

/// Rewrites `simple/<project>/index.html` from the directory's files and adds the project
/// to `simple/index.html`, under `simple/.lock`.
pub fn regenerate_simple(dir: &Path, project: &PackageName) -> Result<(), UploadError> {
    let simple = dir.join("simple");
    fs::create_dir_all(simple.join(project.as_ref())).map_err(io(&simple))?;
    let lock_path = simple.join(".lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io(&lock_path)(std::io::Error::from(e)))?;

    let mut files: Vec<(String, String)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && !name.starts_with('.') && DistFilename::parse(&name, project).is_some() {
            let hash = sha256_file(entry.path()).map_err(io(&entry.path()))?;
            files.push((name, hash));
        }
    }
    files.sort();
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for {project}</title></head><body>\n<h1>Links for {project}</h1>\n"
    );
    for (name, hash) in &files {
        page.push_str(&format!(
            "<a href=\"../../{}#sha256={hash}\">{}</a><br>\n",
            escape(name),
            escape(name)
        ));
    }
    page.push_str("</body></html>\n");
    write_atomically(
        &simple.join(project.as_ref()).join("index.html"),
        page.as_bytes(),
    )?;

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
    write_atomically(&simple.join("index.html"), root.as_bytes())?;
    drop(lock);
    Ok(())
}

fn write_atomically(path: &Path, content: &[u8]) -> Result<(), UploadError> {
    let dir: PathBuf = path
        .parent()
        .expect("page paths have parents")
        .to_path_buf();
    let mut tmp = tempfile::Builder::new()
        .prefix(".page-")
        .tempfile_in(&dir)
        .map_err(io(&dir))?;
    tmp.write_all(content).map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
