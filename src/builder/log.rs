//! A build's captured output: written to a log file up to a cap, with the first and last bytes
//! kept in memory for reports (never the whole output: a build may print gigabytes).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt};

/// How much output to keep, on disk and in memory.
#[derive(Debug, Clone, Copy)]
pub struct LogLimits {
    /// Bytes written to the log file; the rest is counted and dropped.
    pub file_cap: u64,
    pub head: usize,
    pub tail: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        Self {
            file_cap: 20 << 20,
            head: 64 << 10,
            tail: 64 << 10,
        }
    }
}

/// What was captured, for error reports and JUnit `system-err`.
#[derive(Debug, Clone, Default)]
pub struct LogSummary {
    pub head: String,
    pub tail: String,
    /// Every byte the command printed.
    pub total: u64,
    /// Bytes that did not make it into the log file.
    pub dropped: u64,
}

impl LogSummary {
    /// The end of the output, with a marker when the head and tail do not meet.
    pub fn report_tail(&self) -> String {
        if self.total as usize <= self.head.len() {
            return self.head.clone();
        }
        self.tail.clone()
    }
}

#[derive(Clone)]
pub(crate) struct LogSink {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    file: Option<File>,
    limits: LogLimits,
    written: u64,
    total: u64,
    dropped: u64,
    head: Vec<u8>,
    tail: VecDeque<u8>,
}

impl LogSink {
    pub(crate) fn create(path: &Path, limits: LogLimits) -> std::io::Result<Self> {
        // Appended: the hooks of one build share one log.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                file: Some(file),
                limits,
                written: 0,
                total: 0,
                dropped: 0,
                head: Vec::new(),
                tail: VecDeque::new(),
            })),
        })
    }

    /// The log's first line (what sandbox protected the build): written only while the log
    /// file is still empty, so the later hooks of a build, which append, do not repeat it.
    pub(crate) fn first_line(&self, text: &str) {
        let mut inner = self.inner.lock().expect("log lock");
        let empty = inner
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .is_some_and(|m| m.len() == 0);
        if empty && let Some(file) = inner.file.as_mut() {
            let _ = writeln!(file, "{text}");
        }
    }

    /// A line of our own (e.g. "killed: timeout") in the same log.
    pub(crate) fn note(&self, text: &str) {
        self.push(format!("\n[wheelwright] {text}\n").as_bytes());
    }

    pub(crate) fn push(&self, bytes: &[u8]) {
        let mut inner = self.inner.lock().expect("log lock");
        inner.total += bytes.len() as u64;
        let room = inner.limits.file_cap.saturating_sub(inner.written) as usize;
        let keep = room.min(bytes.len());
        if keep > 0 {
            let ok = inner
                .file
                .as_mut()
                .map(|f| f.write_all(&bytes[..keep]).is_ok())
                .unwrap_or(false);
            if ok {
                inner.written += keep as u64;
            } else {
                inner.file = None;
            }
        }
        inner.dropped += (bytes.len() - keep) as u64;
        let head_room = inner.limits.head.saturating_sub(inner.head.len());
        let take = head_room.min(bytes.len());
        inner.head.extend_from_slice(&bytes[..take]);
        let tail_cap = inner.limits.tail;
        let start = bytes.len().saturating_sub(tail_cap);
        inner.tail.extend(&bytes[start..]);
        let excess = inner.tail.len().saturating_sub(tail_cap);
        inner.tail.drain(..excess);
    }

    /// Copy a pipe into the sink until EOF.
    pub(crate) async fn drain(self, mut pipe: impl AsyncRead + Unpin) {
        let mut buf = vec![0u8; 16 << 10];
        loop {
            match pipe.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => self.push(&buf[..n]),
            }
        }
    }

    pub(crate) fn summary(&self) -> LogSummary {
        let mut inner = self.inner.lock().expect("log lock");
        if let Some(f) = inner.file.as_mut() {
            let _ = f.flush();
        }
        let (a, b) = inner.tail.as_slices();
        let mut tail = Vec::with_capacity(a.len() + b.len());
        tail.extend_from_slice(a);
        tail.extend_from_slice(b);
        LogSummary {
            head: String::from_utf8_lossy(&inner.head).into_owned(),
            tail: String::from_utf8_lossy(&tail).into_owned(),
            total: inner.total,
            dropped: inner.dropped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_file_and_keeps_head_and_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let limits = LogLimits {
            file_cap: 100,
            head: 10,
            tail: 10,
        };
        let sink = LogSink::create(&path, limits).unwrap();
        for i in 0..50u8 {
            sink.push(&[b'a' + (i % 26); 7]);
        }
        let s = sink.summary();
        assert_eq!(s.total, 350);
        assert_eq!(s.dropped, 250);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 100);
        assert_eq!(s.head, "aaaaaaabbb");
        assert_eq!(s.tail.len(), 10);
        assert!(s.tail.ends_with("xxxxxxx"), "{}", s.tail);
    }
}
