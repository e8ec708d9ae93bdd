//! Longest builds first: the order in which waiting builds get a `--jobs` slot.
//!
//! With builds of very different lengths (a meson/pybind11 extension of minutes beside
//! pure-Python sdists of seconds), the order decides the wall time: started last, the long
//! build runs alone at the end while the other slots idle. Starting the longest expected
//! first (the LPT rule of job-shop scheduling) keeps the slots busy. The expectation is the
//! project's last build time on this cache, whatever the version (a project's build time
//! changes slowly across releases); a project never built here goes first, since nothing says
//! it is short. A never-built project starts as soon as it is planned (nothing can outrank
//! it); a build with a known time waits until the plan is complete, since a longer one may
//! still be planned. That costs at most the plan's time (seconds, where builds take minutes)
//! and only when there is an order to keep.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::task::Poll;
use std::time::Duration;

use futures::channel::mpsc::UnboundedReceiver;
use futures::{Stream, StreamExt};
use pep508_rs::PackageName;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Each project's last build time, one small file per project in the cache dir.
pub(crate) struct BuildTimes {
    pub dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Recorded {
    project: String,
    seconds: f64,
}

impl BuildTimes {
    fn path(&self, project: &PackageName) -> PathBuf {
        let digest = Sha256::digest(project.as_ref().as_bytes());
        self.dir.join(format!("{}.json", hex::encode(digest)))
    }

    /// The last recorded build time of `project`, if any (an unreadable record is none).
    pub(crate) fn expected(&self, project: &PackageName) -> Option<Duration> {
        let bytes = std::fs::read(self.path(project)).ok()?;
        let recorded: Recorded = serde_json::from_slice(&bytes).ok()?;
        (recorded.project == project.as_ref())
            .then(|| Duration::try_from_secs_f64(recorded.seconds).ok())
            .flatten()
    }

    /// Records a build time. A cache that cannot be written only costs the next run its
    /// order, so failures are ignored; the file appears whole or not at all.
    pub(crate) fn record(&self, project: &PackageName, took: Duration) {
        let recorded = Recorded {
            project: project.to_string(),
            seconds: took.as_secs_f64(),
        };
        let Ok(bytes) = serde_json::to_vec(&recorded) else {
            return;
        };
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        if let Ok(mut temp) = tempfile::NamedTempFile::new_in(&self.dir)
            && std::io::Write::write_all(&mut temp, &bytes).is_ok()
        {
            let _ = temp.persist(self.path(project));
        }
    }
}

/// An item waiting for its turn, ranked by its expected duration, then by arrival.
struct Waiting<T> {
    /// `None` (never seen) ranks above every known duration.
    expected: Option<Duration>,
    arrival: Reverse<u64>,
    item: T,
}

impl<T> Waiting<T> {
    fn rank(&self) -> (bool, Option<Duration>, Reverse<u64>) {
        (self.expected.is_none(), self.expected, self.arrival)
    }
}

impl<T> PartialEq for Waiting<T> {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}
impl<T> Eq for Waiting<T> {}
impl<T> PartialOrd for Waiting<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Waiting<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// The items of `queue`, longest expected first (unknown first, then the longest, then the
/// earliest). An unknown item is given out as soon as it is the first in line; a known one
/// only once the queue is closed, when no later arrival can outrank it. Ends when the queue
/// is closed and every item was taken.
pub(crate) fn longest_first<T, F>(
    mut queue: UnboundedReceiver<T>,
    expected: F,
) -> impl Stream<Item = T>
where
    F: Fn(&T) -> Option<Duration>,
{
    let mut waiting: BinaryHeap<Waiting<T>> = BinaryHeap::new();
    let mut arrivals = 0u64;
    let mut closed = false;
    futures::stream::poll_fn(move |cx| {
        while !closed {
            match queue.poll_next_unpin(cx) {
                Poll::Ready(Some(item)) => {
                    waiting.push(Waiting {
                        expected: expected(&item),
                        arrival: Reverse(arrivals),
                        item,
                    });
                    arrivals += 1;
                }
                Poll::Ready(None) => closed = true,
                // The queue's waker is registered: a new arrival wakes the consumer.
                Poll::Pending => break,
            }
        }
        match waiting.peek() {
            Some(first) if closed || first.expected.is_none() => {
                Poll::Ready(waiting.pop().map(|next| next.item))
            }
            None if closed => Poll::Ready(None),
            // Only reached with the queue open, whose waker is registered.
            _ => Poll::Pending,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[tokio::test]
    async fn the_longest_expected_of_the_waiting_goes_first_and_unknown_before_known() {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        for item in [
            ("short", secs(2)),
            ("long", secs(200)),
            ("new", None),
            ("mid", secs(20)),
        ] {
            tx.unbounded_send(item).unwrap();
        }
        drop(tx);
        let order: Vec<&str> = longest_first(rx, |(_, expected)| *expected)
            .map(|(name, _)| name)
            .collect()
            .await;
        assert_eq!(order, ["new", "long", "mid", "short"]);
    }

    #[tokio::test]
    async fn equal_expectations_keep_their_arrival_order() {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        for name in ["a", "b", "c"] {
            tx.unbounded_send((name, secs(5))).unwrap();
        }
        drop(tx);
        let order: Vec<&str> = longest_first(rx, |(_, e)| *e)
            .map(|(n, _)| n)
            .collect()
            .await;
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn an_unknown_item_goes_at_once_and_a_known_one_waits_for_the_plan_to_end() {
        use futures::FutureExt;
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let mut stream = std::pin::pin!(longest_first(rx, |(_, e): &(&str, _)| *e));
        tx.unbounded_send(("new", None)).unwrap();
        assert_eq!(stream.next().await.map(|(n, _)| n), Some("new"));
        tx.unbounded_send(("short", secs(3))).unwrap();
        // A longer build may still be planned: the known one is held.
        assert!(stream.next().now_or_never().is_none());
        tx.unbounded_send(("long", secs(300))).unwrap();
        assert!(stream.next().now_or_never().is_none());
        drop(tx);
        assert_eq!(stream.next().await.map(|(n, _)| n), Some("long"));
        assert_eq!(stream.next().await.map(|(n, _)| n), Some("short"));
        assert_eq!(stream.next().await, None);
    }

    #[test]
    fn build_times_round_trip_per_project_and_ignore_damage() {
        let dir = tempfile::tempdir().unwrap();
        let times = BuildTimes {
            dir: dir.path().join("build-times"),
        };
        let numpy = PackageName::from_str("numpy").unwrap();
        let six = PackageName::from_str("six").unwrap();
        assert_eq!(times.expected(&numpy), None);
        times.record(&numpy, Duration::from_millis(196_400));
        assert_eq!(times.expected(&numpy), Some(Duration::from_millis(196_400)));
        assert_eq!(times.expected(&six), None);
        std::fs::write(times.path(&six), b"{\"project\": \"six\", \"seconds\": -1}").unwrap();
        assert_eq!(times.expected(&six), None, "a negative time is no time");
        std::fs::write(times.path(&six), b"not json").unwrap();
        assert_eq!(times.expected(&six), None);
    }
}
