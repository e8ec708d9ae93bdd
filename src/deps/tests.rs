//! Unit tests of the `--deps` pre-pass: the pinned lines and the job adjustment.

use super::*;
use crate::requirements::Origin as LineOrigin;

fn entry(text: &str, line: usize) -> RequirementEntry {
    RequirementEntry {
        requirement: Requirement::from_str(text).unwrap(),
        text: text.to_string(),
        origin: LineOrigin {
            file: "r.txt".into(),
            line,
            column: 1,
        },
        hashes: Vec::new(),
        config_settings: Vec::new(),
    }
}

fn job(entry: usize, project: &str, interpreter: &str, skipped: bool) -> Job {
    let version = Some(Version::from_str("1.0").unwrap());
    Job {
        project: PackageName::from_str(project).unwrap(),
        requirement: project.into(),
        origin: "r.txt:1".into(),
        interpreter: crate::interpreter::test_labelled(interpreter),
        decision: if skipped {
            Decision::Skipped(version)
        } else {
            Decision::Unavailable(version)
        },
        reason: "as planned".into(),
        settings: Default::default(),
        via: Vec::new(),
        entry,
    }
}

fn member(label: &str, via: &[&str], roots: &[usize], derived: Option<usize>) -> Member {
    Member {
        via: BTreeMap::from([(
            label.to_string(),
            via.iter().map(|v| v.to_string()).collect(),
        )]),
        roots: roots.iter().copied().collect(),
        derived_from: derived,
        hashes: Vec::new(),
    }
}

fn closure() -> Closure {
    let written = ParsedRequirements {
        requirements: vec![entry("top>=1", 1), entry("clash", 2)],
        ..Default::default()
    };
    let key = |name: &str, v: &str| {
        (
            PackageName::from_str(name).unwrap(),
            Version::from_str(v).unwrap(),
        )
    };
    let members = BTreeMap::from([
        (key("top", "1.0"), member("cp311", &[], &[0], Some(0))),
        (
            key("dep", "2.0"),
            member("cp311", &["top 1.0"], &[], Some(0)),
        ),
    ]);
    let failed = BTreeMap::from([(
        1,
        BTreeMap::from([(("cp311".to_string(), None), "no closure".to_string())]),
    )]);
    pinned_lines(&written, Solved { members, failed })
}

#[test]
fn pinned_lines_follow_the_written_ones_with_the_roots_origin_and_text() {
    let closure = closure();
    let lines: Vec<(String, String, String)> = closure
        .requirements
        .requirements
        .iter()
        .map(|e| {
            (
                e.requirement.to_string(),
                e.text.clone(),
                e.origin.to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines[2..],
        [
            ("dep==2.0".into(), "dep==2.0".into(), "r.txt:1".into()),
            ("top==1.0".into(), "top>=1".into(), "r.txt:1".into()),
        ]
    );
}

#[test]
fn adjust_keeps_pinned_jobs_of_their_interpreters_with_via_and_fails_failed_lines() {
    let closure = closure();
    // The written range line: its planned job is replaced by the pinned line's.
    assert!(closure.adjust(job(0, "top", "cp311", false)).is_none());
    // A marker-skipped job of a written line stays.
    let skipped = closure.adjust(job(0, "top", "cp38", true)).unwrap();
    assert_eq!(skipped.action(), Action::Skipped);
    // A line whose closure failed: its job fails with the reason.
    let failed = closure.adjust(job(1, "clash", "cp311", false)).unwrap();
    assert_eq!(
        (&failed.decision, failed.reason.as_str()),
        (&Decision::Unavailable(None), "no closure")
    );
    // A pinned line: via for the interpreter whose closure has it; none elsewhere.
    let dep = closure.adjust(job(2, "dep", "cp311", false)).unwrap();
    assert_eq!(dep.via, ["top 1.0"]);
    assert!(closure.adjust(job(2, "dep", "cp38", false)).is_none());
}

#[test]
fn a_failed_version_fails_only_that_versions_job_of_the_written_line() {
    let written = ParsedRequirements {
        requirements: vec![entry("twice>=1", 1)],
        ..Default::default()
    };
    let v = |text: &str| Version::from_str(text).unwrap();
    let failed = BTreeMap::from([(
        0,
        BTreeMap::from([(
            ("cp311".to_string(), Some(v("1.0"))),
            "no closure of twice 1.0".to_string(),
        )]),
    )]);
    let closure = pinned_lines(
        &written,
        Solved {
            members: BTreeMap::new(),
            failed,
        },
    );
    let with_version = |version: &str| {
        let mut job = job(0, "twice", "cp311", false);
        job.decision = Decision::Unavailable(Some(v(version)));
        job
    };
    let failed = closure.adjust(with_version("1.0")).unwrap();
    assert_eq!(
        (&failed.decision, failed.reason.as_str()),
        (
            &Decision::Unavailable(Some(v("1.0"))),
            "no closure of twice 1.0"
        )
    );
    // 2.0's closure did not fail: its pinned line stands for the written job.
    assert!(closure.adjust(with_version("2.0")).is_none());
    // Another interpreter's 1.0 had its own (successful) closure.
    let mut other = with_version("1.0");
    other.interpreter = crate::interpreter::test_labelled("cp39");
    assert!(closure.adjust(other).is_none());
}

#[test]
fn a_root_pinned_to_a_version_keeps_its_extras_marker_and_origin() {
    let root = line(&entry("top[fast]>=1 ; python_version >= '3'", 4));
    let pinned = pinned_root(&root, &Version::from_str("2.0").unwrap());
    assert_eq!(
        pinned.requirement.to_string(),
        "top[fast]==2.0 ; python_full_version >= '3'"
    );
    assert_eq!(pinned.origin, root.origin);
}

#[tokio::test]
async fn versions_all_with_deps_together_is_refused_before_anything_is_asked() {
    let written = ParsedRequirements {
        requirements: vec![entry("top>=1", 1)],
        ..Default::default()
    };
    let cache = tempfile::tempdir().unwrap();
    let client = HttpClient::new(crate::index::ClientConfig::default()).unwrap();
    let fetcher = MetadataFetcher::new(
        client.clone(),
        crate::store::Store::new(cache.path()),
        cache.path(),
    );
    // No upstream source at all: a question would fail as an unusable index (exit 3).
    let upstream = Arc::new(Upstream::default());
    let inputs = Inputs {
        environments: &[vec![0]],
        requirements: &written,
        interpreters: &[],
        upstream: &upstream,
        client: &client,
        fetcher,
        pre: false,
        packages: &PackageSettings::default(),
        versions_all: true,
        concurrency: 1,
    };
    let refused = expand(inputs, DepsMode::Together).await.unwrap_err();
    assert_eq!(refused.code, crate::exit::BAD_INPUT);
    let message = refused.error.to_string();
    assert!(
        message.contains("one environment holds one version")
            && message.contains("--deps per-line"),
        "{message}"
    );
}
