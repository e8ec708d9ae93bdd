//! Indexes filled with the project's fixtures before a test starts: a devpi user's
//! `upstream` index holding every fixture dist, and a pypiserver of the `ww-dep-*` wheels
//! the `--deps` tests resolve over.

use super::{DevpiServer, DevpiUser, Pypiserver, devpi, fixtures_dir};

/// A user on the shared devpi-server with an `upstream` index holding every fixture dist;
/// the index's simple URL.
pub(crate) fn user_with_upstream(prefix: &str) -> (DevpiUser, String) {
    user_with_upstream_on(devpi(), prefix)
}

/// [`user_with_upstream`] on a given server.
pub(crate) fn user_with_upstream_on(server: &DevpiServer, prefix: &str) -> (DevpiUser, String) {
    let user = server.new_user(prefix);
    let upstream = user.create_index("upstream", &[], false);
    for dist in std::fs::read_dir(fixtures_dir().join("dist")).unwrap() {
        user.upload("upstream", &dist.unwrap().path());
    }
    (user, format!("{upstream}/+simple/"))
}

/// A pypiserver whose packages are the `ww-dep-*` fixture wheels (the directory lives as
/// long as the returned `TempDir`).
pub(crate) fn deps_upstream() -> (tempfile::TempDir, Pypiserver) {
    let packages = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixtures_dir().join("dist")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("ww_dep_") {
            std::fs::copy(&path, packages.path().join(&name)).unwrap();
        }
    }
    let server = Pypiserver::start(packages.path(), None);
    (packages, server)
}
