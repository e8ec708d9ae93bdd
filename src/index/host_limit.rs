//! How many index requests go to one server at once (`--host-concurrency`), lowered while the
//! server shows that it is busy.
//!
//! devpi-server answers a stage's pages in a pool of worker threads under one Python
//! interpreter: a project page that needs the mirror's upstream (a first contact with a large
//! project takes seconds) holds a worker, and many such requests at once queue behind each
//! other until all of them time out, are retried, and queue again. A client that keeps its
//! concurrency when answers slow down turns one slow page into a timeout storm.
//!
//! So each origin (`scheme://host:port`) has a limit that starts at the configured bound and
//! moves as TCP's congestion window does (additive increase, multiplicative decrease):
//!
//! * **Overloaded** (HTTP 429 or 503, or a request that timed out): the limit is halved.
//! * **Slow** (an answer took at least [`Thresholds::slow`]): the limit drops by a quarter.
//! * **Fast** (under [`Thresholds::fast`]): after as many fast answers in a row as the limit,
//!   it grows by one, up to the configured bound.
//!
//! A decrease counts once per generation: the answers to requests sent before the last
//! decrease describe the load that caused it, so they cannot lower the limit again (a burst
//! of slow answers to the same overload halves the limit once, not to one).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// What an answer said about the server's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Answered quickly.
    Fast,
    /// Answered, neither quickly nor slowly.
    Normal,
    /// Answered, but slowly.
    Slow,
    /// 429, 503, or no answer within the timeout.
    Overloaded,
}

/// The latencies that count as fast and as slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub fast: Duration,
    pub slow: Duration,
}

impl Thresholds {
    /// From the read timeout: an answer that took a sixth of it is slow (10 s of the default
    /// 60 s), one under a tenth of that is fast.
    pub fn for_timeout(timeout: Duration) -> Thresholds {
        let slow = (timeout / 6).max(Duration::from_millis(100));
        Thresholds {
            fast: slow / 10,
            slow,
        }
    }

    pub fn classify(&self, latency: Duration) -> Load {
        if latency >= self.slow {
            Load::Slow
        } else if latency < self.fast {
            Load::Fast
        } else {
            Load::Normal
        }
    }
}

/// A change of one origin's limit, for `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitChange {
    pub origin: String,
    pub from: usize,
    pub to: usize,
    pub because: Load,
}

impl std::fmt::Display for LimitChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.because {
            Load::Overloaded => "the server answered 429/503 or timed out",
            Load::Slow => "answers slowed down",
            Load::Fast | Load::Normal => "answers are fast again",
        };
        write!(
            f,
            "{}: {why}; at most {} index request(s) at once (was {})",
            self.origin, self.to, self.from
        )
    }
}

/// The limit of one origin, without any waiting: what [`HostLimits`] does on each answer.
#[derive(Debug, Clone)]
pub struct Window {
    bound: usize,
    limit: usize,
    in_flight: usize,
    fast_in_a_row: usize,
    /// Increases on every decrease; a request remembers the generation it started in.
    generation: u64,
}

impl Window {
    pub fn new(bound: usize) -> Window {
        let bound = bound.max(1);
        Window {
            bound,
            limit: bound,
            in_flight: 0,
            fast_in_a_row: 0,
            generation: 0,
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes a place if one is free; the generation to report the answer with.
    pub fn try_start(&mut self) -> Option<u64> {
        (self.in_flight < self.limit).then(|| {
            self.in_flight += 1;
            self.generation
        })
    }

    /// A request of `generation` ended with `load`; the new limit if it changed.
    pub fn finish(&mut self, generation: u64, load: Load) -> Option<usize> {
        self.in_flight = self.in_flight.saturating_sub(1);
        let before = self.limit;
        match load {
            Load::Overloaded | Load::Slow if generation == self.generation => {
                self.limit = if load == Load::Overloaded {
                    self.limit / 2
                } else {
                    self.limit - self.limit / 4
                }
                .max(1);
                self.generation += 1;
                self.fast_in_a_row = 0;
            }
            Load::Overloaded | Load::Slow => self.fast_in_a_row = 0,
            Load::Fast => {
                self.fast_in_a_row += 1;
                if self.fast_in_a_row >= self.limit && self.limit < self.bound {
                    self.limit += 1;
                    self.fast_in_a_row = 0;
                }
            }
            Load::Normal => {}
        }
        (self.limit != before).then_some(self.limit)
    }
}

struct Host {
    window: Mutex<Window>,
    freed: Notify,
}

/// The limits of every origin a run talks to.
pub struct HostLimits {
    bound: usize,
    thresholds: Thresholds,
    verbose: bool,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    changes: Mutex<Vec<LimitChange>>,
}

/// A place in an origin's window; report how the request went with [`Permit::finish`].
/// Dropped without it (the request was cancelled), the place is freed and nothing learnt.
pub struct Permit {
    host: Arc<Host>,
    origin: String,
    generation: u64,
    done: bool,
}

impl HostLimits {
    pub fn new(bound: usize, thresholds: Thresholds, verbose: bool) -> HostLimits {
        HostLimits {
            bound: bound.max(1),
            thresholds,
            verbose,
            hosts: Mutex::default(),
            changes: Mutex::default(),
        }
    }

    pub fn bound(&self) -> usize {
        self.bound
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Every change of a limit so far, in order.
    pub fn changes(&self) -> Vec<LimitChange> {
        self.changes.lock().expect("limit changes").clone()
    }

    /// Waits for a place in `origin`'s window.
    pub async fn acquire(&self, origin: &str) -> Permit {
        let host = Arc::clone(
            self.hosts
                .lock()
                .expect("host limits")
                .entry(origin.to_string())
                .or_insert_with(|| {
                    Arc::new(Host {
                        window: Mutex::new(Window::new(self.bound)),
                        freed: Notify::new(),
                    })
                }),
        );
        let generation = loop {
            // Registered before the check, so a place freed in between is not missed.
            let freed = host.freed.notified();
            if let Some(generation) = host.window.lock().expect("host window").try_start() {
                break generation;
            }
            freed.await;
        };
        Permit {
            host,
            origin: origin.to_string(),
            generation,
            done: false,
        }
    }

    /// Ends a request: frees its place and moves the limit by what the answer said.
    pub fn finish(&self, mut permit: Permit, load: Load) {
        permit.done = true;
        let (before, after) = {
            let mut window = permit.host.window.lock().expect("host window");
            let before = window.limit();
            (before, window.finish(permit.generation, load))
        };
        permit.host.freed.notify_waiters();
        if let Some(to) = after {
            let change = LimitChange {
                origin: permit.origin.clone(),
                from: before,
                to,
                because: load,
            };
            if self.verbose {
                eprintln!("note: {change}");
            }
            self.changes.lock().expect("limit changes").push(change);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            let mut window = self.host.window.lock().expect("host window");
            window.in_flight = window.in_flight.saturating_sub(1);
            drop(window);
            self.host.freed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_halves_once_per_generation() {
        let mut window = Window::new(8);
        let started: Vec<u64> = (0..8).map(|_| window.try_start().unwrap()).collect();
        assert_eq!(window.try_start(), None, "the ninth request waits");
        assert_eq!(window.finish(started[0], Load::Overloaded), Some(4));
        // The other answers to the same burst do not halve again.
        for generation in &started[1..] {
            assert_eq!(window.finish(*generation, Load::Overloaded), None);
        }
        assert_eq!(window.limit(), 4);
        // A request sent after the decrease does.
        let later = window.try_start().unwrap();
        assert_eq!(window.finish(later, Load::Slow), Some(3));
    }

    #[test]
    fn never_below_one_and_fast_answers_grow_it_back_to_the_bound() {
        let mut window = Window::new(4);
        for _ in 0..10 {
            let g = window.try_start().unwrap();
            window.finish(g, Load::Overloaded);
        }
        assert_eq!(window.limit(), 1);
        let mut fast = 0;
        while window.limit() < 4 {
            let g = window.try_start().unwrap();
            window.finish(g, Load::Fast);
            fast += 1;
            assert!(fast < 100, "the limit does not grow");
        }
        // 1 + 2 + 3 fast answers in a row: one limit's worth per step.
        assert_eq!(fast, 6);
        let g = window.try_start().unwrap();
        assert_eq!(window.finish(g, Load::Fast), None, "never above the bound");
        assert_eq!(window.limit(), 4);
    }

    #[test]
    fn a_slow_answer_breaks_the_fast_streak() {
        let mut window = Window::new(2);
        let g = window.try_start().unwrap();
        window.finish(g, Load::Overloaded);
        assert_eq!(window.limit(), 1);
        let old = 0; // a request from before the decrease
        let g = window.try_start().unwrap();
        window.finish(g, Load::Normal);
        window.in_flight += 1;
        window.finish(old, Load::Slow);
        assert_eq!(window.limit(), 1, "an old generation lowers nothing");
        let g = window.try_start().unwrap();
        assert_eq!(window.finish(g, Load::Fast), Some(2));
    }

    #[test]
    fn thresholds_follow_the_timeout() {
        let t = Thresholds::for_timeout(Duration::from_secs(60));
        assert_eq!(t.slow, Duration::from_secs(10));
        assert_eq!(t.fast, Duration::from_secs(1));
        assert_eq!(t.classify(Duration::from_millis(300)), Load::Fast);
        assert_eq!(t.classify(Duration::from_secs(3)), Load::Normal);
        assert_eq!(t.classify(Duration::from_secs(13)), Load::Slow);
    }

    #[tokio::test]
    async fn waiters_get_the_place_a_finished_request_frees() {
        let limits = Arc::new(HostLimits::new(
            1,
            Thresholds::for_timeout(Duration::from_secs(60)),
            false,
        ));
        let first = limits.acquire("http://a").await;
        let other_host = limits.acquire("http://b").await;
        let waiting = {
            let limits = Arc::clone(&limits);
            tokio::spawn(async move { limits.acquire("http://a").await.generation })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a second request to one host waits");
        limits.finish(first, Load::Normal);
        assert_eq!(waiting.await.unwrap(), 0);
        drop(other_host);
        assert!(limits.changes().is_empty());
    }
}
