//! The scheduler with in-memory parts: a directory target, files upstream as `file:` URLs,
//! a builder set-up that refuses.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{Pipeline, PipelineParts, PipelineSettings};
use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::builder::SandboxError;
use crate::distribution::{SafeFilename, Sha256, sha256_file};
use crate::host_slots::HostSlots;
use crate::index::{ClientConfig, HttpClient, IndexError, SafeUrl, Target};
use crate::package_settings::PackageSettings;
use crate::plan::{Action, Chosen, Decision, Job, JobFile, JobSlot};
use crate::publish::{Session, SessionParts};
use crate::report::{JobResult, Outcome, Progress};
use crate::requirements::ParsedRequirements;
use crate::stop::{Signal, Stop, StopReason};
use crate::store::Store;

const WHEEL: &str = "demo-1.0-py3-none-any.whl";

/// A pure wheel with METADATA and WHEEL, enough for `read_wheel`.
fn pure_wheel(dir: &Path) -> std::path::PathBuf {
    let path = dir.join(WHEEL);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("demo-1.0.dist-info/METADATA", options)
        .unwrap();
    zip.write_all(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
        .unwrap();
    zip.start_file("demo-1.0.dist-info/WHEEL", options).unwrap();
    zip.write_all(
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    )
    .unwrap();
    zip.start_file("demo-1.0.dist-info/RECORD", options)
        .unwrap();
    zip.finish().unwrap();
    path
}

struct Scene {
    dir: tempfile::TempDir,
    requirements: ParsedRequirements,
    client: HttpClient,
    target: Target,
    stop: Arc<Stop>,
    progress: Progress,
    /// No `[package.NAME]` tables.
    packages: PackageSettings,
    /// The upstream wheel's `file:` URL.
    url: url::Url,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let upstream = dir.path().join("upstream");
        std::fs::create_dir(&upstream).unwrap();
        let wheel = pure_wheel(&upstream);
        let url = url::Url::from_file_path(&wheel).unwrap();
        let requirements = crate::requirements::parse_str(
            "demo==1.0\n",
            &dir.path().join("requirements.txt"),
            &|_| None,
        )
        .unwrap();
        let client = HttpClient::new(ClientConfig::default()).unwrap();
        let target = Target::directory(dir.path().join("target"));
        Scene {
            requirements,
            client,
            target,
            stop: Arc::new(Stop::default()),
            progress: Progress::new(0, true),
            packages: PackageSettings::default(),
            url,
            dir,
        }
    }

    /// A job as the plan makes it; fetch and build jobs name the upstream wheel.
    fn job(&self, line: (usize, usize), interpreter: &str, action: Action) -> JobSlot {
        let version: Version = "1.0".parse().unwrap();
        let chosen = Chosen {
            version: version.clone(),
            file: JobFile {
                filename: SafeFilename::new(WHEEL).unwrap(),
                url: SafeUrl::new(&self.url),
                sha256: Some(Sha256::new(&sha256_file(self.wheel_path()).unwrap()).unwrap()),
                size: None,
            },
        };
        let decision = match action {
            Action::Present => Decision::Present(chosen),
            Action::Fetch => Decision::Fetch(chosen),
            Action::Build => Decision::Build(chosen),
            Action::Skipped => Decision::Skipped(Some(version)),
            Action::Excluded => Decision::Excluded(version),
            Action::Unavailable => Decision::Unavailable(Some(version)),
        };
        JobSlot {
            key: line,
            job: Job {
                project: PackageName::new("demo".to_string()).unwrap(),
                requirement: "demo==1.0".into(),
                origin: "requirements.txt:1".into(),
                interpreter: crate::interpreter::test_labelled(interpreter),
                decision,
                reason: "as planned".into(),
                settings: Default::default(),
                via: Vec::new(),
                entry: 0,
            },
        }
    }

    fn wheel_path(&self) -> std::path::PathBuf {
        self.dir.path().join("upstream").join(WHEEL)
    }

    fn pipeline(&self) -> Pipeline<'_> {
        let hosts = Arc::new(HostSlots::new(1));
        let session = Session::new(SessionParts {
            client: &self.client,
            target: &self.target,
            pure_index: None,
            credentials: None,
            strict_whitelist: false,
            slots: Arc::clone(&hosts),
            stop: Arc::clone(&self.stop),
            progress: &self.progress,
        });
        Pipeline::new(PipelineParts {
            requirements: &self.requirements,
            client: &self.client,
            store: Store::new(&self.dir.path().join("cache")),
            settings: PipelineSettings {
                verbose: false,
                no_upload: false,
                transfer_concurrency: 1,
            },
            stop: Arc::clone(&self.stop),
            progress: &self.progress,
            make_builder: Box::new(|| {
                Err(Arc::new(SandboxError::Unavailable {
                    bwrap: None,
                    builtin: None,
                }))
            }),
            build_jobs: 1,
            packages: &self.packages,
            failures: super::FailureMemory {
                dir: self.dir.path().join("failures"),
                ttl: Duration::from_secs(60),
                retry: false,
            },
            build_times: super::BuildTimes {
                dir: self.dir.path().join("build-times"),
            },
            hosts,
            session,
        })
    }

    fn placed(&self) -> bool {
        self.dir.path().join("target").join(WHEEL).is_file()
    }
}

async fn run(
    pipeline: &Pipeline<'_>,
    batches: Vec<Result<Vec<JobSlot>, IndexError>>,
) -> Vec<JobResult> {
    pipeline.run(futures::stream::iter(batches)).await.results
}

fn outcomes(results: &[JobResult]) -> Vec<(String, Outcome)> {
    results
        .iter()
        .map(|r| (r.job.interpreter.label.clone(), r.outcome))
        .collect()
}

#[tokio::test]
async fn jobs_sharing_one_file_are_fetched_and_published_once() {
    let scene = Scene::new();
    let pipeline = scene.pipeline();
    let batch = vec![
        scene.job((0, 0), "cp311", Action::Fetch),
        scene.job((0, 1), "cp312", Action::Fetch),
    ];
    let results = run(&pipeline, vec![Ok(batch)]).await;
    // A second publish of the same file would find it present: both jobs share the one
    // upload.
    assert_eq!(
        outcomes(&results),
        vec![
            ("cp311".to_string(), Outcome::Uploaded),
            ("cp312".to_string(), Outcome::Uploaded),
        ]
    );
    assert!(scene.placed());
    let sha256 = sha256_file(scene.wheel_path()).unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.sha256.as_deref() == Some(&*sha256))
    );
    assert!(
        pipeline.builder_refusal().is_none(),
        "nothing needed a build"
    );
}

#[tokio::test]
async fn after_a_stop_the_work_left_is_not_run_and_the_rest_is_still_reported() {
    let scene = Scene::new();
    let pipeline = scene.pipeline();
    scene.stop.interrupted(Signal::Interrupt);
    let batch = vec![
        scene.job((0, 0), "cp311", Action::Present),
        scene.job((0, 1), "cp312", Action::Fetch),
        scene.job((1, 0), "cp312", Action::Build),
    ];
    let results = run(&pipeline, vec![Ok(batch)]).await;
    assert_eq!(
        outcomes(&results),
        vec![
            ("cp311".to_string(), Outcome::Present),
            ("cp312".to_string(), Outcome::NotRun),
            ("cp312".to_string(), Outcome::NotRun),
        ]
    );
    assert_eq!(results[1].detail, "not attempted: interrupted");
    assert!(!scene.placed());
    assert!(
        pipeline.builder_refusal().is_none(),
        "no builder is set up once the run stopped"
    );
}

#[tokio::test]
async fn a_plan_that_cannot_be_finished_stops_the_run_as_an_unusable_index() {
    let scene = Scene::new();
    let pipeline = scene.pipeline();
    let failed = IndexError::BadResponse {
        url: "http://upstream/simple/other/".into(),
        detail: "not a listing".into(),
    };
    let results = run(
        &pipeline,
        vec![
            Ok(vec![scene.job((0, 0), "cp311", Action::Present)]),
            Err(failed),
        ],
    )
    .await;
    assert_eq!(
        outcomes(&results),
        vec![("cp311".to_string(), Outcome::Present)]
    );
    assert!(
        matches!(scene.stop.reason(), Some(StopReason::TargetUnusable(_))),
        "{:?}",
        scene.stop.reason()
    );
}

#[tokio::test]
async fn a_builder_that_cannot_be_set_up_fails_the_builds_only_and_is_reported_typed() {
    let scene = Scene::new();
    let pipeline = scene.pipeline();
    let batch = vec![
        scene.job((0, 0), "cp311", Action::Build),
        scene.job((1, 0), "cp311", Action::Fetch),
    ];
    let results = run(&pipeline, vec![Ok(batch)]).await;
    assert_eq!(
        outcomes(&results),
        vec![
            ("cp311".to_string(), Outcome::Failed),
            ("cp311".to_string(), Outcome::Uploaded),
        ]
    );
    assert_eq!(
        results[0].detail,
        "cannot build: no sandbox can be had on this machine, so nothing is built; \
         `--sandbox off` builds without isolation"
    );
    assert!(matches!(
        pipeline.builder_refusal(),
        Some(SandboxError::Unavailable { .. })
    ));
}
