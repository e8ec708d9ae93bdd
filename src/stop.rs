//! Why a fill run stopped launching work, held in one place.
//!
//! Two things stop a run: a target (or the plan) that became unusable, and a signal. The
//! first target failure is the one reported; a signal, whenever it comes, decides the exit
//! code (130/143), as a user who pressed Ctrl-C expects. Stopping also cancels the token that
//! running builds watch (their process groups are killed).

use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

/// The signals a run stops for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP (the terminal or the session went away): stops like SIGTERM.
    Hangup,
}

impl Signal {
    /// The exit code of a run this signal stopped: 128 + the signal's number, as shells do.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => crate::exit::INTERRUPTED_SIGINT,
            Signal::Terminate => crate::exit::INTERRUPTED_SIGTERM,
            Signal::Hangup => crate::exit::INTERRUPTED_SIGHUP,
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        })
    }
}

/// Why the run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// The target, the pure index or an upstream index could not be used; the message says
    /// why (the first one wins).
    TargetUnusable(String),
    Interrupted(Signal),
}

impl StopReason {
    /// What a job that was not started says (`not-run` in the reports).
    pub(crate) fn not_attempted(&self) -> &'static str {
        match self {
            StopReason::TargetUnusable(_) => {
                "not attempted: the run stopped (an index became unusable)"
            }
            StopReason::Interrupted(_) => "not attempted: interrupted",
        }
    }
}

/// The report's `stopped` text.
impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::TargetUnusable(why) => f.write_str(why),
            StopReason::Interrupted(signal) => write!(f, "interrupted ({signal})"),
        }
    }
}

#[derive(Default)]
struct Reasons {
    target: Option<String>,
    signal: Option<Signal>,
}

/// The run's stop state, shared by the pipeline, the publish session and the signal handlers.
#[derive(Default)]
pub(crate) struct Stop {
    reasons: Mutex<Reasons>,
    cancel: CancellationToken,
}

impl Stop {
    /// A target became unusable. `true` when this is the first such report (its caller
    /// prints it; later ones are consequences).
    pub(crate) fn target_unusable(&self, why: &str) -> bool {
        let first = {
            let mut reasons = self.reasons.lock().expect("stop lock");
            let first = reasons.target.is_none();
            reasons.target.get_or_insert_with(|| why.to_string());
            first
        };
        self.cancel.cancel();
        first
    }

    pub(crate) fn interrupted(&self, signal: Signal) {
        self.reasons.lock().expect("stop lock").signal = Some(signal);
        self.cancel.cancel();
    }

    /// `None` while the run goes on.
    pub(crate) fn reason(&self) -> Option<StopReason> {
        let reasons = self.reasons.lock().expect("stop lock");
        match (&reasons.signal, &reasons.target) {
            (Some(signal), _) => Some(StopReason::Interrupted(*signal)),
            (None, Some(why)) => Some(StopReason::TargetUnusable(why.clone())),
            (None, None) => None,
        }
    }

    /// Whether a target became unusable (even if a signal came too).
    pub(crate) fn target_failed(&self) -> bool {
        self.reasons.lock().expect("stop lock").target.is_some()
    }

    /// Cancelled as soon as the run stops: builds watch it.
    pub(crate) fn cancelled(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.cancel.cancelled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_target_failure_is_kept_and_a_signal_decides() {
        let stop = Stop::default();
        assert_eq!(stop.reason(), None);
        assert!(stop.target_unusable("first"));
        assert!(!stop.target_unusable("second"));
        assert_eq!(
            stop.reason(),
            Some(StopReason::TargetUnusable("first".into()))
        );
        assert_eq!(
            stop.reason().unwrap().not_attempted(),
            "not attempted: the run stopped (an index became unusable)"
        );
        stop.interrupted(Signal::Terminate);
        assert_eq!(
            stop.reason(),
            Some(StopReason::Interrupted(Signal::Terminate))
        );
        assert_eq!(stop.reason().unwrap().to_string(), "interrupted (SIGTERM)");
        assert!(stop.target_failed());
    }

    #[tokio::test]
    async fn stopping_cancels_the_builds() {
        let stop = Stop::default();
        stop.interrupted(Signal::Interrupt);
        stop.cancelled().await;
        assert_eq!(
            stop.reason().unwrap().not_attempted(),
            "not attempted: interrupted"
        );
    }
}
