//! The upload decisions against an in-memory target: what is listed, what each POST
//! answers, whether a login can be repeated.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use pep508_rs::PackageName;

use super::upload::{
    Attempts, ListedFile, Remote, Sent, UploadError, UploadForm, UploadOutcome, upload,
};
use crate::distribution::{SafeFilename, Sha256};
use crate::index::IndexError;
use crate::retry::RetryPolicy;
use crate::store::StoredFile;

const FILENAME: &str = "demo-1.0-py3-none-any.whl";

fn sha(digit: char) -> Sha256 {
    Sha256::new(&digit.to_string().repeat(64)).unwrap()
}

fn ours() -> StoredFile {
    StoredFile {
        path: "/nonexistent/demo-1.0-py3-none-any.whl".into(),
        filename: SafeFilename::new(FILENAME).unwrap(),
        sha256: sha('a'),
        size: 3,
    }
}

fn listed(sha256: Option<Sha256>) -> ListedFile {
    ListedFile {
        filename: SafeFilename::new(FILENAME).unwrap(),
        sha256,
    }
}

/// What one POST does to the in-memory target.
enum Post {
    /// Stores the file and answers.
    Store(Sent),
    /// Answers without storing.
    Drop(Sent),
}

fn ok() -> Sent {
    Sent::Accepted { status: 200 }
}

fn transient(reason: &str) -> Sent {
    Sent::Transient {
        reason: reason.into(),
        retry_after: None,
    }
}

fn refused(status: u16) -> Sent {
    Sent::Refused {
        status,
        message: format!("HTTP {status}"),
    }
}

fn unreachable() -> IndexError {
    IndexError::Unreachable {
        url: "http://target/u/i/demo".into(),
        detail: "connection reset".into(),
        failure: crate::retry::TransportFailure::Interrupted,
    }
}

#[derive(Default)]
struct Memory {
    files: Mutex<Vec<ListedFile>>,
    /// The answers to the POSTs, in order; once used up, a POST stores and answers 200.
    posts: Mutex<VecDeque<Post>>,
    /// Errors for the listing reads, in order; once used up, reads answer.
    read_faults: Mutex<VecDeque<IndexError>>,
    can_relogin: bool,
    sent: Mutex<u32>,
    reads: Mutex<u32>,
    logins: Mutex<u32>,
}

impl Memory {
    fn holding(sha256: Option<Sha256>) -> Memory {
        let memory = Memory::default();
        memory.files.lock().unwrap().push(listed(sha256));
        memory
    }

    fn answering(self, posts: impl IntoIterator<Item = Post>) -> Memory {
        self.posts.lock().unwrap().extend(posts);
        self
    }

    fn sent(&self) -> u32 {
        *self.sent.lock().unwrap()
    }
}

impl Remote for Memory {
    async fn own_files(&self, _project: &PackageName) -> Result<Vec<ListedFile>, IndexError> {
        *self.reads.lock().unwrap() += 1;
        if let Some(fault) = self.read_faults.lock().unwrap().pop_front() {
            return Err(fault);
        }
        Ok(self.files.lock().unwrap().clone())
    }

    async fn send(&self, file: &StoredFile, _form: &UploadForm) -> Result<Sent, UploadError> {
        *self.sent.lock().unwrap() += 1;
        let post = self
            .posts
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Post::Store(ok()));
        let answer = match post {
            Post::Store(answer) => {
                let mut files = self.files.lock().unwrap();
                if !files.iter().any(|f| f.filename == file.filename) {
                    files.push(listed(Some(file.sha256.clone())));
                }
                answer
            }
            Post::Drop(answer) => answer,
        };
        Ok(answer)
    }

    async fn relogin(&self) -> Result<bool, IndexError> {
        *self.logins.lock().unwrap() += 1;
        Ok(self.can_relogin)
    }

    fn describe(&self) -> String {
        "http://target/u/i".into()
    }

    fn upload_url(&self) -> String {
        "http://target/u/i/".into()
    }
}

async fn run(remote: &Memory, budget: u32) -> (Result<UploadOutcome, UploadError>, Attempts) {
    let project = PackageName::new("demo".into()).unwrap();
    let mut attempts = Attempts::default();
    let policy = RetryPolicy::new(budget, Duration::ZERO);
    let result = upload(
        remote,
        &project,
        &ours(),
        &UploadForm::default(),
        policy,
        &mut attempts,
    )
    .await;
    (result, attempts)
}

#[tokio::test]
async fn absent_is_uploaded_and_confirmed_by_the_listing() {
    let remote = Memory::default();
    let (result, attempts) = run(&remote, 3).await;
    assert_eq!(result.unwrap(), UploadOutcome::Uploaded);
    assert_eq!((attempts.sent, attempts.retries.len()), (1, 0));
    assert_eq!(*remote.reads.lock().unwrap(), 2, "a look before, one after");
}

#[tokio::test]
async fn present_with_our_sha256_is_done_without_sending() {
    let remote = Memory::holding(Some(sha('a')));
    let (result, attempts) = run(&remote, 3).await;
    assert_eq!(result.unwrap(), UploadOutcome::AlreadyPresent);
    assert_eq!((attempts.sent, remote.sent()), (0, 0));
}

#[tokio::test]
async fn another_sha256_is_a_conflict_and_never_overwritten() {
    for existing in [Some(sha('b')), None] {
        let remote = Memory::holding(existing.clone());
        let (result, attempts) = run(&remote, 3).await;
        match result {
            Err(UploadError::Conflict { existing, ours, .. }) => {
                assert_eq!(ours, sha('a').to_string());
                assert_ne!(existing, ours);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!((attempts.sent, remote.sent()), (0, 0));
        assert_eq!(*remote.files.lock().unwrap(), [listed(existing)]);
    }
}

#[tokio::test]
async fn a_5xx_after_storing_is_found_by_the_recheck_and_not_sent_again() {
    let remote = Memory::default().answering([Post::Store(transient("HTTP 500"))]);
    let (result, attempts) = run(&remote, 3).await;
    assert_eq!(result.unwrap(), UploadOutcome::Uploaded);
    assert_eq!(attempts.sent, 1);
    assert_eq!(attempts.retries, ["HTTP 500"]);
    assert_eq!(remote.sent(), 1);
}

#[tokio::test]
async fn a_transient_failure_that_stored_nothing_is_sent_again() {
    let remote = Memory::default().answering([
        Post::Drop(transient("HTTP 502")),
        Post::Drop(transient("HTTP 503")),
    ]);
    let (result, attempts) = run(&remote, 3).await;
    assert_eq!(result.unwrap(), UploadOutcome::Uploaded);
    assert_eq!(attempts.sent, 3);
    assert_eq!(attempts.retries, ["HTTP 502", "HTTP 503"]);
}

#[tokio::test]
async fn accepted_but_not_listed_is_a_failure() {
    let remote = Memory::default().answering([Post::Drop(ok())]);
    let (result, attempts) = run(&remote, 3).await;
    assert!(
        matches!(result, Err(UploadError::NotListed { status: 200, .. })),
        "{result:?}"
    );
    assert_eq!(attempts.sent, 1);
}

#[tokio::test]
async fn a_401_means_one_login_and_one_more_post() {
    let remote = Memory {
        can_relogin: true,
        ..Memory::default()
    }
    .answering([Post::Drop(refused(401))]);
    let (result, attempts) = run(&remote, 3).await;
    assert_eq!(result.unwrap(), UploadOutcome::Uploaded);
    assert_eq!(attempts.retries, ["HTTP 401: logged in again"]);
    assert_eq!((attempts.sent, *remote.logins.lock().unwrap()), (2, 1));

    // A second 401 after the new login is a refusal: no login loop.
    let remote = Memory {
        can_relogin: true,
        ..Memory::default()
    }
    .answering([Post::Drop(refused(401)), Post::Drop(refused(401))]);
    let (result, attempts) = run(&remote, 3).await;
    assert!(
        matches!(result, Err(UploadError::Refused { status: 401, .. })),
        "{result:?}"
    );
    assert_eq!((attempts.sent, *remote.logins.lock().unwrap()), (2, 1));
    assert!(result.unwrap_err().target_unusable());
}

#[tokio::test]
async fn a_refusal_is_checked_against_the_listing() {
    // 409 because a racing upload of the same bytes landed first: ours is there.
    let remote = Memory::default().answering([Post::Store(refused(409))]);
    let (result, _) = run(&remote, 3).await;
    assert_eq!(result.unwrap(), UploadOutcome::Uploaded);
    // 400 and nothing stored: refused, not retried.
    let remote = Memory::default().answering([Post::Drop(refused(400))]);
    let (result, attempts) = run(&remote, 3).await;
    assert!(
        matches!(result, Err(UploadError::Refused { status: 400, .. })),
        "{result:?}"
    );
    assert_eq!(attempts.sent, 1);
    assert!(
        !result.unwrap_err().target_unusable(),
        "a problem with this file"
    );
}

#[tokio::test]
async fn transient_failures_exhausting_the_budget_give_up() {
    let remote =
        Memory::default().answering((0..5).map(|_| Post::Drop(transient("connection reset"))));
    let (result, attempts) = run(&remote, 2).await;
    match result {
        Err(error @ UploadError::GaveUp { .. }) => {
            assert!(error.target_unusable());
            let UploadError::GaveUp {
                attempts: n, last, ..
            } = error
            else {
                unreachable!()
            };
            assert_eq!((n, last.as_str()), (3, "connection reset"));
        }
        other => panic!("expected to give up, got {other:?}"),
    }
    assert_eq!(attempts.sent, 3, "the first POST and two retries");
    assert_eq!(remote.sent(), 3);
}

#[tokio::test]
async fn listing_failures_count_against_the_same_budget() {
    // The reads retry inside the upload's loop, not in a loop of their own.
    let remote = Memory::default();
    remote
        .read_faults
        .lock()
        .unwrap()
        .extend([unreachable(), unreachable()]);
    let (result, attempts) = run(&remote, 2).await;
    assert_eq!(result.unwrap(), UploadOutcome::Uploaded);
    assert_eq!(attempts.sent, 1);
    assert!(attempts.retries.is_empty(), "no POST was repeated");

    let remote = Memory::default();
    remote
        .read_faults
        .lock()
        .unwrap()
        .extend([unreachable(), unreachable(), unreachable()]);
    let (result, attempts) = run(&remote, 2).await;
    assert!(
        matches!(
            result,
            Err(UploadError::Index(IndexError::Unreachable { .. }))
        ),
        "{result:?}"
    );
    assert_eq!(
        *remote.reads.lock().unwrap(),
        3,
        "two retries in all, then the third read fails"
    );
    assert_eq!(attempts.sent, 0);

    // A read that fails for good is not retried.
    let remote = Memory::default();
    remote
        .read_faults
        .lock()
        .unwrap()
        .push_back(IndexError::BadResponse {
            url: "http://target/u/i/demo".into(),
            detail: "not JSON".into(),
        });
    let (result, _) = run(&remote, 5).await;
    assert!(
        matches!(
            result,
            Err(UploadError::Index(IndexError::BadResponse { .. }))
        ),
        "{result:?}"
    );
    assert_eq!(*remote.reads.lock().unwrap(), 1);
}

/// The session with directory targets: dispatch, idempotence, the stop.
mod session {
    use std::io::Write;
    use std::path::Path;
    use std::sync::Arc;

    use super::super::{PublishError, Session, SessionParts, UploadOutcome};
    use crate::distribution::{SafeFilename, Sha256, read_wheel, sha256_file};
    use crate::host_slots::HostSlots;
    use crate::index::{ClientConfig, HttpClient, Target};
    use crate::report::Progress;
    use crate::stop::{Signal, Stop, StopReason};
    use crate::store::StoredFile;

    /// A wheel with METADATA and WHEEL, enough for `read_wheel`.
    fn wheel(dir: &Path, filename: &str, purelib: bool, tag: &str) -> StoredFile {
        let path = dir.join(filename);
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("demo-1.0.dist-info/METADATA", options)
            .unwrap();
        zip.write_all(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
            .unwrap();
        zip.start_file("demo-1.0.dist-info/WHEEL", options).unwrap();
        write!(
            zip,
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
        )
        .unwrap();
        zip.start_file("demo-1.0.dist-info/RECORD", options)
            .unwrap();
        zip.finish().unwrap();
        StoredFile {
            sha256: Sha256::new(&sha256_file(&path).unwrap()).unwrap(),
            size: std::fs::metadata(&path).unwrap().len(),
            filename: SafeFilename::new(filename).unwrap(),
            path,
        }
    }

    struct Scene {
        _dir: tempfile::TempDir,
        store: std::path::PathBuf,
        client: HttpClient,
        target: Target,
        pure: Target,
        stop: Arc<Stop>,
        progress: Progress,
    }

    impl Scene {
        fn new() -> Scene {
            let dir = tempfile::tempdir().unwrap();
            let store = dir.path().join("store");
            std::fs::create_dir(&store).unwrap();
            Scene {
                store,
                client: HttpClient::new(ClientConfig::default()).unwrap(),
                target: Target::directory(dir.path().join("target")),
                pure: Target::directory(dir.path().join("pure")),
                stop: Arc::new(Stop::default()),
                progress: Progress::new(0, true),
                _dir: dir,
            }
        }

        fn session(&self) -> Session<'_> {
            Session::new(SessionParts {
                client: &self.client,
                target: &self.target,
                pure_index: Some(&self.pure),
                credentials: None,
                strict_whitelist: true,
                slots: Arc::new(HostSlots::new(1)),
                stop: Arc::clone(&self.stop),
                progress: &self.progress,
            })
        }
    }

    fn placed(target: &Target, filename: &str) -> bool {
        let Target::Directory { path, .. } = target else {
            unreachable!("the scene's targets are directories")
        };
        path.join(filename).is_file()
    }

    #[tokio::test]
    async fn pure_wheels_go_to_the_pure_index_and_a_second_time_are_present() {
        let scene = Scene::new();
        let session = scene.session();
        let pure = wheel(
            &scene.store,
            "demo-1.0-py3-none-any.whl",
            true,
            "py3-none-any",
        );
        let info = read_wheel(&pure.path).unwrap();
        let first = session.publish(&pure, &info).await.unwrap();
        assert_eq!(first.outcome, UploadOutcome::Uploaded);
        assert_eq!(first.destination, scene.pure.describe());
        assert!(
            first.warning.is_none(),
            "directories have no mirror to shadow"
        );
        assert!(placed(&scene.pure, "demo-1.0-py3-none-any.whl"));
        assert!(!placed(&scene.target, "demo-1.0-py3-none-any.whl"));
        let again = session.publish(&pure, &info).await.unwrap();
        assert_eq!(again.outcome, UploadOutcome::AlreadyPresent);
        assert_eq!(
            again.detail(),
            format!("already on {} with identical bytes", scene.pure.describe())
        );

        let platform = wheel(
            &scene.store,
            "demo-1.0-cp312-cp312-linux_x86_64.whl",
            false,
            "cp312-cp312-linux_x86_64",
        );
        let info = read_wheel(&platform.path).unwrap();
        let published = session.publish(&platform, &info).await.unwrap();
        assert_eq!(published.destination, scene.target.describe());
        assert!(placed(
            &scene.target,
            "demo-1.0-cp312-cp312-linux_x86_64.whl"
        ));
    }

    #[tokio::test]
    async fn nothing_is_attempted_once_the_run_stopped() {
        let scene = Scene::new();
        let session = scene.session();
        let file = wheel(
            &scene.store,
            "demo-1.0-py3-none-any.whl",
            true,
            "py3-none-any",
        );
        let info = read_wheel(&file.path).unwrap();
        scene.stop.interrupted(Signal::Interrupt);
        match session.publish(&file, &info).await {
            Err(PublishError::NotAttempted(StopReason::Interrupted(Signal::Interrupt))) => {}
            other => panic!("expected not attempted, got {other:?}"),
        }
        assert!(!placed(&scene.pure, "demo-1.0-py3-none-any.whl"));
        // Directories need no credentials and have no policies: the pre-build check passes.
        let checked = session.check_before_build().await;
        assert!(checked.is_ok(), "{checked:?}");
    }
}
