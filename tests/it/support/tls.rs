//! The plan the TLS tests run through the real nginx: `ww-alpha==1.0` fetchable from the
//! fixtures and `ww-bravo==1.0` already on the target, so a run that read the target
//! through TLS plans exactly one fetch and one present.

use std::path::Path;

use super::{DevpiUser, Run, devpi, fixture_dist, fixtures_dir, plan};

const REQUIREMENTS: &str = "ww-alpha==1.0\nww-bravo==1.0\n";
const EXPECTED_ACTIONS: [(&str, &str); 2] = [("ww-alpha", "fetch"), ("ww-bravo", "present")];

/// A user with an index `target` holding only ww-bravo; its devpi (plain HTTP) URL.
pub(crate) fn target_with_bravo(prefix: &str) -> (DevpiUser, String) {
    let user = devpi().new_user(prefix);
    let target = user.create_index("target", &[], false);
    user.upload("target", &fixture_dist("ww_bravo-1.0.0-py3-none-any.whl"));
    (user, target)
}

/// `wheelwright plan` of ww-alpha and ww-bravo `--target TARGET --find-links
/// fixtures/dist ARGS...` with `env`, in a fresh home.
pub(crate) fn plan_bravo(target: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let home = tempfile::Builder::new()
        .prefix(&super::temp_prefix("home"))
        .tempdir()
        .expect("create temporary HOME");
    let find_links = fixtures_dir().join("dist");
    let mut all = vec!["--target", target, "--find-links", path_str(&find_links)];
    all.extend_from_slice(args);
    plan(home.path(), REQUIREMENTS, &all, env)
}

impl Run {
    /// Exit 0 and the actions of a target read through TLS: ww-alpha fetched, ww-bravo
    /// present.
    #[track_caller]
    pub(crate) fn assert_planned(&self, what: &str) {
        assert_eq!(self.code(), 0, "{what}: {}", self.stderr());
        let expected: Vec<(String, String)> = EXPECTED_ACTIONS
            .iter()
            .map(|(p, a)| (p.to_string(), a.to_string()))
            .collect();
        assert_eq!(self.actions(), expected, "{what}: {}", self.stderr());
    }
}

/// `host:port` of an `https://host:port` URL, as error messages print it.
pub(crate) fn authority(url: &str) -> &str {
    url.strip_prefix("https://").expect("https URL")
}

pub(crate) fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}
