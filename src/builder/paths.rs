//! Fixed build paths, so that rebuilding the same sdist gives the same bytes.
//!
//! Compilers write the paths they were given into what they produce: `__FILE__` in string
//! constants, `DW_AT_comp_dir` and the line tables of the debug info (CPython's own `CFLAGS`,
//! which setuptools starts from, contain `-g`). A source tree under a random directory of the
//! cache therefore gives a different `.so` in every build. Two measures, after the
//! reproducible-builds project's practice:
//!
//! * **The source sits at a fixed path.** Under bubblewrap the unpacked sdist is mounted at
//!   `/build/<top-level dir>` (usually `/build/NAME-VERSION`), whatever `--cache-dir` is. Without
//!   a mount namespace the whole build directory is placed at
//!   `$TMPDIR/wheelwright-build-<uid>/NAME-VERSION-<key>`, where the key is a hash of the sdist's
//!   sha256 and the interpreter (so builds of one sdist for several interpreters, which run at
//!   the same time, do not compete for one path). A lock file guards each such directory: a
//!   second concurrent build of the very same sdist for the same interpreter takes the next
//!   slot (`-1`, `-2`, ...), so identical content gives an identical path only when the builds
//!   do not overlap; the prefix maps below cover that case for C and C++.
//! * **Prefix maps** (`-ffile-prefix-map=OLD=NEW`, GCC ≥ 8 and clang ≥ 10; the older
//!   `-fdebug-prefix-map` otherwise) in `CFLAGS` and `CXXFLAGS`: the source dir becomes `.`,
//!   the build environment (headers installed by build requirements, such as numpy's) and the
//!   build dir become fixed names. setuptools appends `CFLAGS` to the interpreter's own flags
//!   (distutils' `customize_compiler`), as do meson and CMake; a user's `--build-env CFLAGS=...`
//!   is appended after ours.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// Where bubblewrap mounts the unpacked source tree's parent (`/build/NAME-VERSION`).
pub(super) const MOUNT_ROOT: &str = "/build";

/// The fixed names the prefix maps give the build environment and the build directory.
const ENV_NAME: &str = "/build-env";
const DIR_NAME: &str = "/build-dir";

/// How many concurrent builds of one (sdist, interpreter) get a slot of their own.
const SLOTS: u32 = 64;

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("{}: {what}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: &'static str,
        source: io::Error,
    },
    /// The shared parent in `$TMPDIR` is not a directory of ours that only we can write: a
    /// build there could be tampered with, so we refuse instead.
    #[error(
        "{}: not a directory owned by us and writable only by us; remove it or set TMPDIR elsewhere",
        path.display()
    )]
    UnsafeBase { path: PathBuf },
    #[error("{}: all {SLOTS} build slots are in use", path.display())]
    NoSlot { path: PathBuf },
}

/// A build directory at a path derived from the sdist, held (locked) until dropped.
#[derive(Debug)]
pub(super) struct KeyedDir {
    pub dir: PathBuf,
    /// The `flock` lives as long as this descriptor.
    _lock: File,
}

/// The key of a keyed build dir: the sdist's content and the interpreter building it.
pub(super) fn build_key(sdist_sha256: &str, interpreter: &Path) -> String {
    let mut h = Sha256::new();
    h.update(sdist_sha256.as_bytes());
    h.update(b"\0");
    h.update(interpreter.as_os_str().as_encoded_bytes());
    hex::encode(h.finalize())[..16].to_string()
}

/// `<base>/<stem>-<key>` (or the next free slot), created fresh and locked.
pub(super) fn keyed_build_dir(base: &Path, stem: &str, key: &str) -> Result<KeyedDir, PathsError> {
    ensure_private_base(base)?;
    for slot in 0..SLOTS {
        let name = match slot {
            0 => format!("{stem}-{key}"),
            n => format!("{stem}-{key}-{n}"),
        };
        let lock_path = base.join(format!("{name}.lock"));
        let Some(lock) = try_lock(&lock_path).map_err(|source| PathsError::Io {
            path: lock_path.clone(),
            what: "lock",
            source,
        })?
        else {
            continue;
        };
        let dir = base.join(&name);
        // Ours now: whatever is there is left over from a crashed or kept build.
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(PathsError::Io {
                    path: dir,
                    what: "remove stale build dir",
                    source: e,
                });
            }
            _ => {}
        }
        fs::create_dir(&dir).map_err(|source| PathsError::Io {
            path: dir.clone(),
            what: "create build dir",
            source,
        })?;
        return Ok(KeyedDir { dir, _lock: lock });
    }
    Err(PathsError::NoSlot {
        path: base.to_path_buf(),
    })
}

/// `$TMPDIR/wheelwright-build-<uid>`: the parent of keyed build dirs. One per user, because
/// `$TMPDIR` is usually shared and [`ensure_private_base`] refuses a directory another user
/// owns: a second user on the same Jenkins agent must not be locked out by the first.
pub(super) fn default_base() -> PathBuf {
    let uid = rustix::process::getuid().as_raw();
    std::env::temp_dir().join(format!("wheelwright-build-{uid}"))
}

/// Create `base` (mode 0755) or accept it only when it is a real directory of ours that
/// nobody else can write: `$TMPDIR` is usually shared by every user of the machine.
pub(super) fn ensure_private_base(base: &Path) -> Result<(), PathsError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match fs::DirBuilder::new().mode(0o755).create(base) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            return Err(PathsError::Io {
                path: base.to_path_buf(),
                what: "create",
                source: e,
            });
        }
        _ => {}
    }
    let meta = fs::symlink_metadata(base).map_err(|source| PathsError::Io {
        path: base.to_path_buf(),
        what: "inspect",
        source,
    })?;
    let ours = meta.uid() == rustix::process::geteuid().as_raw();
    if !meta.is_dir() || !ours || meta.mode() & 0o022 != 0 {
        return Err(PathsError::UnsafeBase {
            path: base.to_path_buf(),
        });
    }
    Ok(())
}

/// The lock file at `path` (created, never through a symlink), held exclusively (`flock`), or
/// `None` when another holder has it. `flock` locks belong to the open file, so a second
/// `try_lock` of the same path fails within one process as it does across processes, and a
/// holder that dies releases its locks.
pub(super) fn try_lock(path: &Path) -> io::Result<Option<File>> {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(File::from(fd))),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The prefix-map flags for `CFLAGS`/`CXXFLAGS`: `maps` are (path as the build sees it, the
/// name it should have in the output), later entries winning where paths nest (GCC and clang
/// apply the last matching option). Paths a shell-style split would break are left out.
pub(super) fn prefix_map_flags(maps: &[(&Path, &str)]) -> String {
    let option = if file_prefix_map_supported() {
        "-ffile-prefix-map"
    } else {
        "-fdebug-prefix-map"
    };
    maps.iter()
        .filter_map(|(path, name)| {
            let path = path.to_str()?;
            let plain = |s: &str| {
                !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || "'\"\\=$`".contains(c))
            };
            (plain(path) && plain(name)).then(|| format!("{option}={path}={name}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The maps for one build: its directory, its environment, then its source tree (`.`).
pub(super) fn build_maps<'a>(
    build_dir: &'a Path,
    env_root: &'a Path,
    source: &'a Path,
) -> [(&'a Path, &'static str); 3] {
    [(build_dir, DIR_NAME), (env_root, ENV_NAME), (source, ".")]
}

/// Whether the system compiler (`/usr/bin/cc`, what builds use unless told otherwise) knows
/// `-ffile-prefix-map`; an unknown option is an error to GCC, so older ones get the debug-only
/// form. Probed once per process.
fn file_prefix_map_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        std::process::Command::new("/usr/bin/cc")
            .args([
                "-ffile-prefix-map=/wheelwright-probe=.",
                "-x",
                "c",
                "-c",
                "-o",
                "/dev/null",
                "/dev/null",
            ])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Put `ours` in front of a variable of `vars`: flags the user gave come last, so they win.
pub(super) fn prepend_flags(vars: &mut Vec<(String, String)>, key: &str, ours: &str) {
    if ours.is_empty() {
        return;
    }
    match vars.iter_mut().find(|(k, _)| k == key) {
        Some((_, value)) if !value.trim().is_empty() => *value = format!("{ours} {value}"),
        Some((_, value)) => *value = ours.to_string(),
        None => vars.push((key.to_string(), ours.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_exclusive_while_held_and_reused_after() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("wheelwright-build");
        let first = keyed_build_dir(&base, "ww-x-1.0", "abc").unwrap();
        assert_eq!(first.dir, base.join("ww-x-1.0-abc"));
        fs::write(first.dir.join("leftover"), b"x").unwrap();
        let second = keyed_build_dir(&base, "ww-x-1.0", "abc").unwrap();
        assert_eq!(second.dir, base.join("ww-x-1.0-abc-1"));
        drop(first);
        // A process another test thread forks inherits the lock's descriptor until it execs
        // (a window of microseconds), so the released slot may look held for that moment:
        // ask again (no sleep) until the window has passed.
        let third = (0..100_000)
            .find_map(|_| {
                let dir = keyed_build_dir(&base, "ww-x-1.0", "abc").unwrap();
                (dir.dir == base.join("ww-x-1.0-abc")).then_some(dir)
            })
            .expect("the released slot is reused");
        assert!(
            !third.dir.join("leftover").exists(),
            "a reused slot starts empty"
        );
    }

    #[test]
    fn a_base_writable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("wheelwright-build");
        fs::create_dir(&base).unwrap();
        fs::set_permissions(&base, fs::Permissions::from_mode(0o777)).unwrap();
        let err = keyed_build_dir(&base, "ww-x-1.0", "abc").unwrap_err();
        assert!(matches!(err, PathsError::UnsafeBase { .. }), "{err}");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path(), &link).unwrap();
        let err = keyed_build_dir(&link, "ww-x-1.0", "abc").unwrap_err();
        assert!(matches!(err, PathsError::UnsafeBase { .. }), "{err}");
    }

    #[test]
    fn user_flags_come_after_ours_and_odd_paths_are_left_out() {
        let mut vars = vec![("CFLAGS".to_string(), "-O0 -g3".to_string())];
        let flags = prefix_map_flags(&[
            (Path::new("/build/ww-x-1.0"), "."),
            (Path::new("/tmp/with space"), "/x"),
        ]);
        assert!(flags.ends_with("-prefix-map=/build/ww-x-1.0=."), "{flags}");
        assert!(!flags.contains("space"), "{flags}");
        prepend_flags(&mut vars, "CFLAGS", &flags);
        prepend_flags(&mut vars, "CXXFLAGS", &flags);
        assert_eq!(vars[0].1, format!("{flags} -O0 -g3"));
        assert_eq!(vars[1], ("CXXFLAGS".to_string(), flags));
    }
}
