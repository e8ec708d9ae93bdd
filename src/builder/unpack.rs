//! Unpacking an sdist (`.tar.gz`, `.tar.bz2`, `.zip`) into a fresh directory, refusing anything
//! that could write outside it or exhaust the disk.
//!
//! The rules follow Python's `tarfile` "data" filter (PEP 706) plus hard budgets: absolute paths,
//! `..` components, links leaving the tree, device files and fifos are refused; the number of
//! members and the bytes actually written (not the sizes headers claim) are capped, so a lying
//! header or a compression bomb stops at the budget. Symlinks are created after every regular
//! file, and a link target may not pass through another link, so nothing is ever written through
//! a link and no chain of links can climb out.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

/// Budgets for one sdist.
#[derive(Debug, Clone, Copy)]
pub struct UnpackLimits {
    /// Most members (files, directories, links) an archive may hold.
    pub max_entries: u64,
    /// Most bytes that may be written in total.
    pub max_bytes: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_bytes: 2 << 30,
        }
    }
}

/// What an unpacked sdist looks like.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// The single top-level directory (`{name}-{version}/`, PEP 625).
    pub root: PathBuf,
    /// Newest member mtime (seconds since the epoch), used as `SOURCE_DATE_EPOCH`.
    pub newest_mtime: Option<u64>,
    pub entries: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("{sdist}: unsupported archive type (expected .tar.gz, .tar.bz2 or .zip)")]
    UnsupportedFormat { sdist: String },
    #[error("{sdist}: cannot read archive: {source}")]
    Read { sdist: String, source: io::Error },
    #[error("{sdist}: cannot write member `{member}`: {source}")]
    Write {
        sdist: String,
        member: String,
        source: io::Error,
    },
    #[error("{sdist}: member `{member}` has an absolute path")]
    AbsolutePath { sdist: String, member: String },
    #[error("{sdist}: member `{member}` contains a `..` component")]
    ParentComponent { sdist: String, member: String },
    #[error("{sdist}: link `{member}` -> `{target}` points outside the source tree")]
    LinkEscape {
        sdist: String,
        member: String,
        target: String,
    },
    #[error("{sdist}: member `{member}` is a device file or fifo")]
    SpecialFile { sdist: String, member: String },
    #[error("{sdist}: more than {limit} members (at `{member}`)")]
    TooManyEntries {
        sdist: String,
        member: String,
        limit: u64,
    },
    #[error("{sdist}: unpacks to more than {limit} bytes (at `{member}`)")]
    TooLarge {
        sdist: String,
        member: String,
        limit: u64,
    },
    #[error("{sdist}: expected one top-level directory, found {found}")]
    NoSingleTopLevel { sdist: String, found: String },
}

/// Unpack `sdist` into `dest` (which must exist and be empty) and return its top-level directory.
pub fn unpack_sdist(
    sdist: &Path,
    dest: &Path,
    limits: UnpackLimits,
) -> Result<Unpacked, UnpackError> {
    let display = sdist
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| sdist.display().to_string());
    let lower = display.to_ascii_lowercase();
    let mut state = State {
        sdist: display.clone(),
        dest: dest.to_path_buf(),
        limits,
        entries: 0,
        bytes: 0,
        newest_mtime: None,
        top: HashSet::new(),
        links: Vec::new(),
    };
    let read_err = |source| UnpackError::Read {
        sdist: display.clone(),
        source,
    };
    let file = File::open(sdist).map_err(read_err)?;
    // A cargo `.crate` is a gzipped tar with one top-level `NAME-VERSION/` (see `cargo`).
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") || lower.ends_with(".crate") {
        state.tar(flate2::read::GzDecoder::new(io::BufReader::new(file)))?;
    } else if lower.ends_with(".tar.bz2") {
        state.tar(bzip2::read::BzDecoder::new(io::BufReader::new(file)))?;
    } else if lower.ends_with(".zip") {
        state.zip(file)?;
    } else {
        return Err(UnpackError::UnsupportedFormat { sdist: display });
    }
    state.finish()
}

/// A member's kind, common to tar and zip.
enum Kind {
    Dir,
    File,
    Symlink(PathBuf),
    Hardlink(PathBuf),
}

struct State {
    sdist: String,
    dest: PathBuf,
    limits: UnpackLimits,
    entries: u64,
    bytes: u64,
    newest_mtime: Option<u64>,
    top: HashSet<String>,
    /// Symlinks, created last: (member path relative to dest, target as written).
    links: Vec<(PathBuf, PathBuf)>,
}

impl State {
    fn tar(&mut self, reader: impl Read) -> Result<(), UnpackError> {
        let mut archive = tar::Archive::new(reader);
        let entries = archive.entries().map_err(|e| self.read_err(e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| self.read_err(e))?;
            let header_type = entry.header().entry_type();
            // PAX global headers carry no file (Python's tarfile writes one for PAX archives).
            if header_type.is_pax_global_extensions() {
                continue;
            }
            let raw = entry.path().map_err(|e| self.read_err(e))?.into_owned();
            let member = raw.display().to_string();
            let kind = match header_type {
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry
                        .link_name()
                        .map_err(|e| self.read_err(e))?
                        .map(|t| t.into_owned())
                        .unwrap_or_default();
                    if header_type == tar::EntryType::Symlink {
                        Kind::Symlink(target)
                    } else {
                        Kind::Hardlink(target)
                    }
                }
                _ => {
                    return Err(UnpackError::SpecialFile {
                        sdist: self.sdist.clone(),
                        member,
                    });
                }
            };
            if let Ok(mtime) = entry.header().mtime() {
                self.newest_mtime = Some(self.newest_mtime.map_or(mtime, |m| m.max(mtime)));
            }
            let executable = entry
                .header()
                .mode()
                .map(|m| m & 0o111 != 0)
                .unwrap_or(false);
            self.member(&raw, kind, executable, &mut entry)?;
        }
        Ok(())
    }

    fn zip(&mut self, file: File) -> Result<(), UnpackError> {
        let mut archive = zip::ZipArchive::new(io::BufReader::new(file))
            .map_err(|e| self.read_err(io::Error::other(e)))?;
        for i in 0..archive.len() {
            let mut entry = archive
                .by_index(i)
                .map_err(|e| self.read_err(io::Error::other(e)))?;
            // The raw name, not `enclosed_name()`: we want to *report* `..` and absolute paths.
            let member = entry
                .name()
                .map_err(|e| self.read_err(io::Error::other(e)))?
                .into_owned();
            let raw = PathBuf::from(&member);
            let mode = entry.unix_mode().unwrap_or(0);
            let kind = match mode & 0o170000 {
                0o120000 => {
                    let mut target = String::new();
                    (&mut entry)
                        .take(4096)
                        .read_to_string(&mut target)
                        .map_err(|e| self.read_err(e))?;
                    Kind::Symlink(PathBuf::from(target))
                }
                0o020000 | 0o060000 | 0o010000 | 0o140000 => {
                    return Err(UnpackError::SpecialFile {
                        sdist: self.sdist.clone(),
                        member,
                    });
                }
                _ if entry.is_dir() => Kind::Dir,
                _ => Kind::File,
            };
            self.member(&raw, kind, mode & 0o111 != 0, &mut entry)?;
        }
        Ok(())
    }

    /// Check one member's path and budget, then write it.
    fn member(
        &mut self,
        raw: &Path,
        kind: Kind,
        executable: bool,
        reader: &mut dyn Read,
    ) -> Result<(), UnpackError> {
        let member = raw.display().to_string();
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(UnpackError::TooManyEntries {
                sdist: self.sdist.clone(),
                member,
                limit: self.limits.max_entries,
            });
        }
        let rel = self.safe_relative(raw)?;
        let Some(first) = rel.components().next() else {
            return Ok(()); // `./` itself
        };
        self.top
            .insert(first.as_os_str().to_string_lossy().into_owned());
        let path = self.dest.join(&rel);
        let write_err = |source| UnpackError::Write {
            sdist: self.sdist.clone(),
            member: member.clone(),
            source,
        };
        match kind {
            Kind::Dir => fs::create_dir_all(&path).map_err(write_err)?,
            Kind::File => {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(write_err)?;
                }
                let mut out = File::create(&path).map_err(write_err)?;
                // Count what is really written: read at most one byte past the budget.
                let budget = self.limits.max_bytes - self.bytes;
                let written = io::copy(&mut reader.take(budget + 1), &mut out).map_err(|e| {
                    // A read error here is a corrupt archive, not a disk problem.
                    if e.kind() == io::ErrorKind::InvalidData
                        || e.kind() == io::ErrorKind::UnexpectedEof
                    {
                        self.read_err(e)
                    } else {
                        write_err(e)
                    }
                })?;
                self.bytes += written;
                if self.bytes > self.limits.max_bytes {
                    drop(out);
                    let _ = fs::remove_file(&path);
                    return Err(UnpackError::TooLarge {
                        sdist: self.sdist.clone(),
                        member,
                        limit: self.limits.max_bytes,
                    });
                }
                out.flush().map_err(write_err)?;
                set_mode(&path, executable).map_err(write_err)?;
            }
            Kind::Symlink(target) => {
                if target.is_absolute() {
                    return Err(self.link_escape(&member, &target));
                }
                self.links.push((rel, target));
            }
            Kind::Hardlink(target) => {
                // Hardlink targets are archive paths (relative to the archive root).
                let target_rel = self
                    .safe_relative(&target)
                    .map_err(|_| self.link_escape(&member, &target))?;
                let source = self.dest.join(&target_rel);
                let meta = fs::symlink_metadata(&source)
                    .map_err(|_| self.link_escape(&member, &target))?;
                if !meta.is_file() {
                    return Err(self.link_escape(&member, &target));
                }
                self.bytes += meta.len();
                if self.bytes > self.limits.max_bytes {
                    return Err(UnpackError::TooLarge {
                        sdist: self.sdist.clone(),
                        member,
                        limit: self.limits.max_bytes,
                    });
                }
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(write_err)?;
                }
                // A copy, not a link: the build may edit one without touching the other.
                fs::copy(&source, &path).map_err(write_err)?;
            }
        }
        Ok(())
    }

    /// The member path as plain relative components, or the error naming why not.
    fn safe_relative(&self, raw: &Path) -> Result<PathBuf, UnpackError> {
        let member = raw.display().to_string();
        let mut rel = PathBuf::new();
        for component in raw.components() {
            match component {
                Component::Normal(c) => rel.push(c),
                Component::CurDir => {}
                Component::ParentDir => {
                    return Err(UnpackError::ParentComponent {
                        sdist: self.sdist.clone(),
                        member,
                    });
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(UnpackError::AbsolutePath {
                        sdist: self.sdist.clone(),
                        member,
                    });
                }
            }
        }
        Ok(rel)
    }

    fn link_escape(&self, member: &str, target: &Path) -> UnpackError {
        UnpackError::LinkEscape {
            sdist: self.sdist.clone(),
            member: member.to_string(),
            target: target.display().to_string(),
        }
    }

    fn read_err(&self, source: io::Error) -> UnpackError {
        UnpackError::Read {
            sdist: self.sdist.clone(),
            source,
        }
    }

    /// Create the deferred symlinks, then check the single top-level directory.
    fn finish(self) -> Result<Unpacked, UnpackError> {
        let link_paths: HashSet<&PathBuf> = self.links.iter().map(|(p, _)| p).collect();
        for (rel, target) in &self.links {
            let member = rel.display().to_string();
            // Resolve lexically from the link's directory; the result must stay inside the
            // top-level directory and must not pass through another link (a chain of links can
            // climb out even when each one looks harmless on its own).
            let mut resolved: Vec<&std::ffi::OsStr> =
                rel.parent().map(|p| p.iter().collect()).unwrap_or_default();
            for component in target.components() {
                match component {
                    Component::Normal(c) => {
                        resolved.push(c);
                        let prefix: PathBuf = resolved.iter().collect();
                        let is_link = link_paths.contains(&prefix)
                            || fs::symlink_metadata(self.dest.join(&prefix))
                                .map(|m| m.file_type().is_symlink())
                                .unwrap_or(false);
                        if is_link {
                            return Err(self.link_escape(&member, target));
                        }
                    }
                    Component::CurDir => {}
                    Component::ParentDir => {
                        resolved.pop();
                        if resolved.is_empty() {
                            return Err(self.link_escape(&member, target));
                        }
                    }
                    Component::RootDir | Component::Prefix(_) => {
                        return Err(self.link_escape(&member, target));
                    }
                }
            }
            let path = self.dest.join(rel);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|source| UnpackError::Write {
                    sdist: self.sdist.clone(),
                    member: member.clone(),
                    source,
                })?;
            }
            std::os::unix::fs::symlink(target, &path).map_err(|source| UnpackError::Write {
                sdist: self.sdist.clone(),
                member: member.clone(),
                source,
            })?;
        }
        let mut top: Vec<_> = self.top.into_iter().collect();
        top.sort();
        let root = match top.as_slice() {
            [one] if self.dest.join(one).is_dir() => self.dest.join(one),
            [] => {
                return Err(UnpackError::NoSingleTopLevel {
                    sdist: self.sdist,
                    found: "an empty archive".into(),
                });
            }
            _ => {
                return Err(UnpackError::NoSingleTopLevel {
                    sdist: self.sdist,
                    found: top
                        .iter()
                        .take(5)
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        };
        Ok(Unpacked {
            root,
            newest_mtime: self.newest_mtime,
            entries: self.entries,
            bytes: self.bytes,
        })
    }
}

fn set_mode(path: &Path, executable: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}
