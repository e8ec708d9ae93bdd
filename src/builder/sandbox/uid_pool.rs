//! A uid (and gid) of its own for every build while wheelwright runs as root.
//!
//! `RLIMIT_NPROC` counts the processes of a real uid (per user namespace since Linux 5.14).
//! When every build ran as one uid (nobody), concurrent builds shared one process budget: a
//! fork bomb in one build slot used it up and the real builds beside it could not start a
//! compiler. With a uid per build each build counts only its own processes, and on a kernel
//! without Landlock one build cannot write into another's directory either.
//!
//! The range is [`BUILD_UIDS`], 60928–61183 (0xEE00–0xEEFF): in the block systemd's "Users,
//! Groups, UIDs and GIDs on systemd Systems" leaves unassigned between its greeter range
//! (60578–60705) and `DynamicUser=` (61184–65519); above login.defs' `UID_MAX` (60000), so
//! `useradd` never hands it out; below nobody (65534) and the 16-bit -1 (65535); and below the
//! subordinate ranges (`/etc/subuid`, from 100000) that rootless containers map. The uid needs
//! no account: the kernel accepts any id for `setresuid`.
//!
//! Exclusion as systemd's `DynamicUser=` does it (a lock file per uid in
//! `/run/systemd/dynamic-uid/`): one lock file per uid in [`LOCK_DIR`], held with `flock` for as
//! long as the build runs. Two builds of one run and two wheelwright processes on one machine
//! therefore never hold the same uid; a process that dies releases its locks. `/run` is root's
//! and cleared at boot. Processes in another mount namespace (another container) have their own
//! `/run` and do not see these locks.
//!
//! An account or group with an id in the range means an administrator gave those ids away:
//! wheelwright refuses to build as root then ([`UidPoolError::Taken`]) instead of running
//! untrusted code as somebody.

use std::fs::File;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use crate::builder::paths::{PathsError, ensure_private_base, try_lock};

/// The uids (and gids) builds run as when wheelwright runs as root.
pub const BUILD_UIDS: RangeInclusive<u32> = 60928..=61183;

/// Where the per-uid lock files live (shared by every wheelwright process of the machine).
const LOCK_DIR: &str = "/run/wheelwright-build-uids";

#[derive(Debug, thiserror::Error)]
pub enum UidPoolError {
    #[error(
        "{id} is in wheelwright's build uid range {}–{} but belongs to the {kind} `{name}` in \
         {file}: builds never run as a real account, so nothing is built as root; give that \
         {kind} another id, or run wheelwright as an unprivileged user",
        range.start(),
        range.end()
    )]
    Taken {
        id: u32,
        kind: &'static str,
        name: String,
        file: &'static str,
        range: RangeInclusive<u32>,
    },
    #[error(
        "all {} build uids ({}–{}) are held by running builds (lock files in {}): run fewer \
         builds at once (--jobs) or fewer wheelwright processes",
        range.end() - range.start() + 1,
        range.start(),
        range.end(),
        dir.display()
    )]
    Exhausted {
        range: RangeInclusive<u32>,
        dir: PathBuf,
    },
    #[error("build uid locks: {0}")]
    LockDir(#[from] PathsError),
    #[error("build uid lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The uids builds may take, and the directory of their locks.
#[derive(Debug)]
pub(super) struct UidPool {
    dir: PathBuf,
    uids: RangeInclusive<u32>,
}

/// One uid, held until dropped.
#[derive(Debug)]
pub(super) struct UidLease {
    uid: u32,
    /// The `flock` lives as long as this descriptor.
    _lock: File,
}

impl UidLease {
    pub(super) fn uid(&self) -> u32 {
        self.uid
    }
}

impl UidPool {
    pub(super) fn new(dir: impl Into<PathBuf>, uids: RangeInclusive<u32>) -> Self {
        Self {
            dir: dir.into(),
            uids,
        }
    }

    /// [`BUILD_UIDS`] with its locks in [`LOCK_DIR`], after checking this machine's
    /// `/etc/passwd` and `/etc/group` (see [`UidPool::check_accounts`]).
    pub(super) fn system() -> Result<Self, super::SandboxError> {
        let read = |path: &'static str| match std::fs::read_to_string(path) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(super::SandboxError::Setup {
                what: format!("read {path}"),
                source,
            }),
        };
        let pool = Self::new(LOCK_DIR, BUILD_UIDS);
        pool.check_accounts(&read("/etc/passwd")?, &read("/etc/group")?)?;
        Ok(pool)
    }

    pub(super) fn range(&self) -> &RangeInclusive<u32> {
        &self.uids
    }

    /// Refuses when an entry of `passwd` (name:password:uid:...) or `group`
    /// (name:password:gid:...) has an id in the range.
    pub(super) fn check_accounts(&self, passwd: &str, group: &str) -> Result<(), UidPoolError> {
        for (text, kind, file) in [
            (passwd, "account", "/etc/passwd"),
            (group, "group", "/etc/group"),
        ] {
            if let Some((id, name)) = first_in_range(text, &self.uids) {
                return Err(UidPoolError::Taken {
                    id,
                    kind,
                    name,
                    file,
                    range: self.uids.clone(),
                });
            }
        }
        Ok(())
    }

    /// The lowest uid nobody holds, held until the lease is dropped.
    pub(super) fn lease(&self) -> Result<UidLease, UidPoolError> {
        ensure_private_base(&self.dir)?;
        for uid in self.uids.clone() {
            let path = self.dir.join(format!("{uid}.lock"));
            match try_lock(&path) {
                Ok(Some(lock)) => return Ok(UidLease { uid, _lock: lock }),
                Ok(None) => continue,
                Err(source) => return Err(UidPoolError::Lock { path, source }),
            }
        }
        Err(UidPoolError::Exhausted {
            range: self.uids.clone(),
            dir: self.dir.clone(),
        })
    }

    #[cfg(test)]
    pub(super) fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// The first `name:x:id:...` line of a passwd or group file whose id lies in `range`
/// (comments, NIS `+`/`-` lines and anything else without a numeric third field are skipped).
fn first_in_range(text: &str, range: &RangeInclusive<u32>) -> Option<(u32, String)> {
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.trim().parse::<u32>().ok()?;
        range.contains(&id).then(|| (id, name.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/bash
# a comment: 60930 is not an id here
+::::::
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
builder:x:59999:59999::/home/builder:/bin/sh
";
    const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";

    fn pool(dir: &Path, uids: RangeInclusive<u32>) -> UidPool {
        UidPool::new(dir.join("locks"), uids)
    }

    #[test]
    fn leases_are_exclusive_within_a_pool_and_across_pools_and_return_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let one = pool(dir.path(), 70000..=70002);
        // Another process would open its own pool on the same lock directory.
        let other = pool(dir.path(), 70000..=70002);
        let a = one.lease().unwrap();
        let b = other.lease().unwrap();
        let c = one.lease().unwrap();
        assert_eq!((a.uid(), b.uid(), c.uid()), (70000, 70001, 70002));
        assert!(one.dir().join("70000.lock").is_file());
        match other.lease() {
            Err(e @ UidPoolError::Exhausted { .. }) => {
                let text = e.to_string();
                assert!(text.contains("all 3 build uids (70000–70002)"), "{text}");
                assert!(text.contains("--jobs"), "{text}");
            }
            other => panic!("expected exhaustion, got {other:?}"),
        }
        // A released uid goes back to the pool, to whichever pool asks next.
        drop(b);
        assert_eq!(other.lease().unwrap().uid(), 70001);
        assert_eq!(one.lease().unwrap().uid(), 70001);
    }

    #[test]
    fn a_lock_held_by_another_process_is_respected() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(dir.path(), 70000..=70001);
        std::fs::create_dir_all(pool.dir()).unwrap();
        // flock(1) in a child process holds the first uid's lock until we close its stdin.
        let mut holder = std::process::Command::new("flock")
            .arg(pool.dir().join("70000.lock"))
            .args(["-c", "echo held; read line"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(holder.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        assert_eq!(line.trim(), "held");
        assert_eq!(pool.lease().unwrap().uid(), 70001);
        drop(holder.stdin.take());
        holder.wait().unwrap();
        assert_eq!(pool.lease().unwrap().uid(), 70000);
    }

    #[test]
    fn an_account_or_group_in_the_range_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(dir.path(), 60928..=61183);
        pool.check_accounts(PASSWD, GROUP).unwrap();
        pool.check_accounts("", "").unwrap();
        let taken = format!("{PASSWD}alice:x:60930:100::/home/alice:/bin/sh\n");
        let e = pool.check_accounts(&taken, GROUP).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("60930 is in wheelwright's build uid range 60928–61183"),
            "{text}"
        );
        assert!(
            text.contains("the account `alice` in /etc/passwd"),
            "{text}"
        );
        assert!(text.contains("nothing is built as root"), "{text}");
        let group = format!("{GROUP}builders:x:61183:alice\n");
        match pool.check_accounts(PASSWD, &group) {
            Err(UidPoolError::Taken {
                id: 61183,
                kind: "group",
                name,
                file: "/etc/group",
                ..
            }) => assert_eq!(name, "builders"),
            other => panic!("expected the group to be refused, got {other:?}"),
        }
        // The edges: just outside the range is fine.
        let edges = "a:x:60927:1::/:/bin/sh\nb:x:61184:1::/:/bin/sh\n";
        pool.check_accounts(edges, edges).unwrap();
    }

    #[test]
    fn the_lock_directory_must_be_ours_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(dir.path(), 70000..=70000);
        std::fs::create_dir_all(pool.dir()).unwrap();
        std::fs::set_permissions(pool.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = pool.lease().unwrap_err();
        assert!(matches!(e, UidPoolError::LockDir(_)), "{e:?}");
    }

    #[test]
    fn the_build_range_stays_clear_of_system_ranges() {
        // Regular users end at login.defs' UID_MAX; DynamicUser= starts at 61184.
        assert!(*BUILD_UIDS.start() > 60000);
        assert!(*BUILD_UIDS.end() < 61184);
        assert!(!BUILD_UIDS.contains(&65534));
    }
}
