//! The one retry policy of a run: which failures are worth another attempt, how long to wait
//! before it, and how many one operation gets (`--retries`). Listing reads
//! (the index client's `HttpClient::get`), downloads and uploads use it, and no operation runs a
//! retry loop inside another's (docs/devpi-protocol.md, Retries).

use std::time::{Duration, SystemTime};

/// HTTP statuses worth another attempt (RFC 9110 semantics): 408 Request Timeout, 429 Too
/// Many Requests, 500 Internal Server Error, 502 Bad Gateway, 503 Service Unavailable and
/// 504 Gateway Timeout, the list pip's and uv's clients retry too.
///
/// Not transient: 501 Not Implemented and 505 HTTP Version Not Supported say the server does
/// not support the method or the protocol version, which asking again does not change; the
/// other 5xx (507 Insufficient Storage, 508, 511 Network Authentication Required) need
/// someone to act on the server.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// What a request that got no answer ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be made (refused, DNS, unreachable).
    Connect,
    /// No answer within the connect or read timeout.
    Timeout,
    /// The connection broke while the request or the answer was under way (reset, closed).
    Interrupted,
    /// TLS: an unknown CA, a bad certificate, a refused client certificate. Asking again
    /// gives the same answer, so it is never retried.
    Tls,
    /// A request that cannot be built or a redirect loop: not a network condition.
    Permanent,
}

impl TransportFailure {
    /// Classifies a reqwest error.
    pub fn of(error: &reqwest::Error) -> TransportFailure {
        if is_tls_failure(error) {
            TransportFailure::Tls
        } else if error.is_builder() || error.is_redirect() {
            TransportFailure::Permanent
        } else if error.is_timeout() {
            TransportFailure::Timeout
        } else if error.is_connect() {
            TransportFailure::Connect
        } else {
            TransportFailure::Interrupted
        }
    }

    pub fn is_transient(self) -> bool {
        matches!(
            self,
            TransportFailure::Connect | TransportFailure::Timeout | TransportFailure::Interrupted
        )
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delta-seconds, or an HTTP-date (IMF-fixdate, the form
/// servers must send) turned into the time from `now` to it (zero when it has passed). Other
/// forms are ignored, and the backoff applies.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = parse_imf_fixdate(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Retry-After` of an answer.
pub(crate) fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_imf_fixdate(text: &str) -> Option<SystemTime> {
    let (_weekday, rest) = text.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || clock.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_since_epoch(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (year ≥ 1970).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    // Years counted from March, so the leap day ends the year.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y % 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719_468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// A jitter source: a fraction in `[0, 1)`. The run uses a random one; tests a fixed one.
pub(crate) type Jitter = fn() -> f64;

fn random_jitter() -> f64 {
    rand::random::<f64>()
}

/// How many retries an operation gets and how long it waits before each.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt (`--retries`).
    pub budget: u32,
    /// The first backoff ceiling; doubles per retry.
    pub base: Duration,
    /// The highest backoff ceiling.
    pub cap: Duration,
    /// The longest `Retry-After` honoured: a server asking for an hour gets this.
    pub retry_after_cap: Duration,
    pub jitter: Jitter,
}

impl RetryPolicy {
    pub fn new(budget: u32, base: Duration) -> RetryPolicy {
        RetryPolicy {
            budget,
            base,
            cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(120),
            jitter: random_jitter,
        }
    }

    /// Exponential backoff with full jitter: a wait drawn from `[0, min(cap, base·2^retry))`,
    /// so clients that failed together do not come back together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << retry.min(16))
            .min(self.cap);
        ceiling.mul_f64((self.jitter)().clamp(0.0, 1.0))
    }

    /// The retry bookkeeping of one operation.
    pub fn start(&self) -> RetryState {
        RetryState {
            policy: *self,
            used: 0,
        }
    }
}

/// One operation's retries: every transient failure, of whichever request the operation
/// makes, is counted against the same budget.
#[derive(Debug, Clone)]
pub struct RetryState {
    policy: RetryPolicy,
    used: u32,
}

impl RetryState {
    /// After a transient failure: how long to wait before the next attempt (the server's
    /// `Retry-After` if it gave one, capped, else the backoff), or `None` when the budget
    /// is spent.
    pub fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        if self.used >= self.policy.budget {
            return None;
        }
        let wait = match retry_after {
            Some(asked) => asked.min(self.policy.retry_after_cap),
            None => self.policy.backoff(self.used),
        };
        self.used += 1;
        Some(wait)
    }

    /// Retries taken so far.
    pub fn used(&self) -> u32 {
        self.used
    }

    /// After `error`: waits as the policy says and returns `true` (ask again), or returns
    /// `false` at once when the error is not transient or the budget is spent.
    pub async fn wait_after<E: Transient>(&mut self, error: &E) -> bool {
        if !error.is_transient() {
            return false;
        }
        match self.next_wait(error.retry_after()) {
            Some(wait) => {
                tokio::time::sleep(wait).await;
                true
            }
            None => false,
        }
    }
}

/// An error that says whether asking again may help, and how long the server asked to be
/// left alone (uv's `RetriableError`): what the one retry driver, [`retrying`], needs.
pub trait Transient {
    fn is_transient(&self) -> bool;
    /// The server's `Retry-After`, when it sent one.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the policy's budget is spent; the
/// last error is returned. Every retrying operation of a run that is one request at a time
/// goes through here (uploads, whose steps read and write, use [`RetryState::wait_after`]
/// between their steps).
pub async fn retrying<T, E, F, Fut>(policy: RetryPolicy, mut attempt: F) -> Result<T, E>
where
    E: Transient,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut state = policy.start();
    loop {
        match attempt().await {
            Err(error) if state.wait_after(&error).await => continue,
            other => return other,
        }
    }
}

/// TLS failures (unknown CA, bad certificate, handshake alerts) are not transient.
pub fn is_tls_failure(error: &reqwest::Error) -> bool {
    rustls_cause(error).is_some()
}

/// The rustls error behind a reqwest error. It is either directly in the source chain
/// (certificate verification during connect) or wrapped in an `io::Error` (tokio-rustls,
/// during the handshake).
pub(crate) fn rustls_cause(error: &reqwest::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // io::Error hides its payload from `source()`; look inside, possibly nested.
        let mut wrapped = inner
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        while let Some(payload) = wrapped {
            if let Some(tls) = payload.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            wrapped = payload
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref());
        }
        source = inner.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(jitter: Jitter) -> RetryPolicy {
        RetryPolicy {
            jitter,
            ..RetryPolicy::new(3, Duration::from_millis(100))
        }
    }

    #[derive(Debug, PartialEq)]
    struct Flaky(bool);

    impl Transient for Flaky {
        fn is_transient(&self) -> bool {
            self.0
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::ZERO)
        }
    }

    #[tokio::test]
    async fn the_driver_retries_transient_errors_within_the_budget_only() {
        let calls = std::cell::Cell::new(0);
        let result: Result<(), Flaky> = retrying(fixed(|| 0.0), || async {
            calls.set(calls.get() + 1);
            Err(Flaky(true))
        })
        .await;
        assert_eq!(
            (result, calls.get()),
            (Err(Flaky(true)), 4),
            "1 + 3 retries"
        );
        calls.set(0);
        let result: Result<(), Flaky> = retrying(fixed(|| 0.0), || async {
            calls.set(calls.get() + 1);
            Err(Flaky(false))
        })
        .await;
        assert_eq!(
            (result, calls.get()),
            (Err(Flaky(false)), 1),
            "never retried"
        );
        calls.set(0);
        let result = retrying(fixed(|| 0.0), || async {
            calls.set(calls.get() + 1);
            if calls.get() < 3 {
                Err(Flaky(true))
            } else {
                Ok(calls.get())
            }
        })
        .await;
        assert_eq!(result, Ok(3));
    }

    #[test]
    fn the_transient_statuses_are_exactly_the_list() {
        let transient: Vec<u16> = (100..600).filter(|s| is_transient_status(*s)).collect();
        assert_eq!(transient, [408, 429, 500, 502, 503, 504]);
        for permanent in [400, 401, 403, 404, 409, 501, 505, 507, 511] {
            assert!(!is_transient_status(permanent), "{permanent}");
        }
    }

    #[test]
    fn only_network_conditions_are_transient_transport_failures() {
        use TransportFailure::*;
        let transient: Vec<TransportFailure> = [Connect, Timeout, Interrupted, Tls, Permanent]
            .into_iter()
            .filter(|f| f.is_transient())
            .collect();
        assert_eq!(transient, [Connect, Timeout, Interrupted]);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 06 Nov 1994 08:49:37
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        // A date in the past: come back now.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        // Across a leap day.
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(
            parse_retry_after("Wed, 01 Mar 2000 00:00:00 GMT", leap),
            Some(Duration::from_secs(86_400))
        );
        for junk in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk:?}");
        }
    }

    #[test]
    fn retry_after_is_capped() {
        let mut state = fixed(|| 0.5).start();
        assert_eq!(
            state.next_wait(Some(Duration::from_secs(3_600))),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            state.next_wait(Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn backoff_doubles_within_the_jitter_and_stops_at_the_cap() {
        let half = fixed(|| 0.5);
        let waits: Vec<Duration> = (0..4).map(|r| half.backoff(r)).collect();
        assert_eq!(
            waits,
            [50, 100, 200, 400].map(Duration::from_millis),
            "half of 100 ms · 2^retry"
        );
        let highest = fixed(|| 0.999_999);
        assert!(highest.backoff(20) <= Duration::from_secs(30));
        assert!(highest.backoff(20) > Duration::from_secs(29));
        assert_eq!(
            fixed(|| 0.0).backoff(5),
            Duration::ZERO,
            "full jitter starts at 0"
        );
        // A jitter source out of range is held to it.
        assert_eq!(fixed(|| 7.0).backoff(0), Duration::from_millis(100));
    }

    #[test]
    fn the_budget_runs_out_after_the_given_retries() {
        let mut state = fixed(|| 0.5).start();
        assert!(state.next_wait(None).is_some());
        assert!(state.next_wait(Some(Duration::from_secs(1))).is_some());
        assert!(state.next_wait(None).is_some());
        assert_eq!(state.used(), 3);
        assert_eq!(state.next_wait(None), None);
        assert_eq!(state.next_wait(Some(Duration::ZERO)), None);
        let mut none = RetryPolicy::new(0, Duration::from_millis(1)).start();
        assert_eq!(none.next_wait(None), None, "--retries 0: one attempt");
    }
}
