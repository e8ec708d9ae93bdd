//! A tiny HTTP/1.1 server on a loopback port that serves canned answers by path: hostile
//! listings and bodies no real index would send (a body longer than its `Content-Length`,
//! one that never ends). Plain std threads: one accepts, one serves each connection, and
//! every answer closes its connection, so a body without length ends where the server stops.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request head read.
const MAX_HEAD: usize = 64 * 1024;

/// The requests a server saw: each path and its `Range` header.
type RequestLog = Mutex<Vec<(String, Option<String>)>>;

/// How an answer's body is framed.
#[derive(Clone)]
pub(crate) enum Body {
    /// The bytes, with their true `Content-Length`.
    Exact(Vec<u8>),
    /// The bytes, with this `Content-Length` whatever their real length.
    Declared { bytes: Vec<u8>, content_length: u64 },
    /// The bytes with no `Content-Length`: the body ends when the connection closes.
    Unframed(Vec<u8>),
    /// Zeros without `Content-Length` until the client goes away or `cap` bytes were sent
    /// (the cap only keeps a broken client from filling the disk forever).
    Endless { cap: u64 },
    /// An error status (`503 Service Unavailable`) whose body is [`Body::Endless`]: an error
    /// page must not be read to its end either.
    EndlessError { cap: u64 },
    /// The bytes, honouring one `Range: bytes=…` (206 with `Content-Range`), as a static
    /// file server does; the whole body (200) without a `Range` header.
    Ranged(Vec<u8>),
    /// Like [`Body::Ranged`], but every 206 sends and labels the range `shift` bytes
    /// earlier than asked (a server that gets ranges wrong).
    RangedShifted { bytes: Vec<u8>, shift: u64 },
}

#[derive(Clone)]
pub(crate) struct Reply {
    pub content_type: String,
    pub body: Body,
}

impl Reply {
    pub(crate) fn html(text: impl Into<String>) -> Reply {
        Reply {
            content_type: "text/html".into(),
            body: Body::Exact(text.into().into_bytes()),
        }
    }

    /// A PEP 691 JSON project page.
    pub(crate) fn simple_json(text: impl Into<String>) -> Reply {
        Reply {
            content_type: "application/vnd.pypi.simple.v1+json".into(),
            body: Body::Exact(text.into().into_bytes()),
        }
    }

    pub(crate) fn file(body: Body) -> Reply {
        Reply {
            content_type: "application/octet-stream".into(),
            body,
        }
    }
}

pub(crate) struct CannedServer {
    port: u16,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    stop: Arc<AtomicBool>,
    /// Bytes of body written, over all answers (to tell a cut-off download from a read one).
    sent: Arc<AtomicU64>,
    /// Every request: its path and `Range` header.
    requests: Arc<RequestLog>,
    accept: Option<JoinHandle<()>>,
}

impl CannedServer {
    pub(crate) fn start() -> CannedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let requests: Arc<RequestLog> = Arc::default();
        let accept = {
            let (routes, stop, sent, requests) = (
                Arc::clone(&routes),
                Arc::clone(&stop),
                Arc::clone(&sent),
                Arc::clone(&requests),
            );
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, stop, sent, requests) = (
                        Arc::clone(&routes),
                        Arc::clone(&stop),
                        Arc::clone(&sent),
                        Arc::clone(&requests),
                    );
                    std::thread::spawn(move || serve(stream, &routes, &stop, &sent, &requests));
                }
            })
        };
        CannedServer {
            port,
            routes,
            stop,
            sent,
            requests,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn route(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), reply);
    }

    pub(crate) fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// The requests so far: path and `Range` header.
    pub(crate) fn requests(&self) -> Vec<(String, Option<String>)> {
        self.requests.lock().expect("requests").clone()
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, Reply>>,
    stop: &AtomicBool,
    sent: &AtomicU64,
    requests: &RequestLog,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let Some((path, range)) = read_request(&mut stream) else {
        return;
    };
    requests
        .lock()
        .expect("requests")
        .push((path.clone(), range.clone()));
    let reply = routes.lock().expect("routes").get(&path).cloned();
    let Some(reply) = reply else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let partial_head = |length: u64, content_range: Option<String>| {
        let mut head = match &content_range {
            Some(_) => "HTTP/1.1 206 Partial Content\r\n".to_string(),
            None => "HTTP/1.1 200 OK\r\n".to_string(),
        };
        head.push_str(&format!(
            "Content-Type: {}\r\nConnection: close\r\nAccept-Ranges: bytes\r\nContent-Length: {length}\r\n",
            reply.content_type
        ));
        if let Some(range) = content_range {
            head.push_str(&format!("Content-Range: {range}\r\n"));
        }
        head.push_str("\r\n");
        head
    };
    let head = |length: Option<u64>| {
        let mut head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nConnection: close\r\n",
            reply.content_type
        );
        if let Some(n) = length {
            head.push_str(&format!("Content-Length: {n}\r\n"));
        }
        head.push_str("\r\n");
        head
    };
    let mut send = |bytes: &[u8]| -> bool {
        let ok = stream.write_all(bytes).is_ok();
        if ok {
            sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        }
        ok
    };
    match &reply.body {
        Body::Exact(bytes) => {
            let _ = send(head(Some(bytes.len() as u64)).as_bytes()) && send(bytes);
        }
        Body::Declared {
            bytes,
            content_length,
        } => {
            let _ = send(head(Some(*content_length)).as_bytes()) && send(bytes);
        }
        Body::Unframed(bytes) => {
            let _ = send(head(None).as_bytes()) && send(bytes);
        }
        Body::Ranged(bytes) | Body::RangedShifted { bytes, .. } => {
            let shift = match &reply.body {
                Body::RangedShifted { shift, .. } => *shift,
                _ => 0,
            };
            let len = bytes.len() as u64;
            match range.as_deref().and_then(|r| byte_range(r, len)) {
                Some((start, end)) => {
                    let (start, end) = (start.saturating_sub(shift), end.saturating_sub(shift));
                    let part = &bytes[start as usize..=end as usize];
                    let content_range = format!("bytes {start}-{end}/{len}");
                    let _ = send(partial_head(part.len() as u64, Some(content_range)).as_bytes())
                        && send(part);
                }
                None => {
                    let _ = send(partial_head(len, None).as_bytes()) && send(bytes);
                }
            }
        }
        Body::Endless { cap } | Body::EndlessError { cap } => {
            let start = match &reply.body {
                Body::EndlessError { .. } => format!(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: {}\r\nConnection: close\r\n\r\n",
                    reply.content_type
                ),
                _ => head(None),
            };
            if !send(start.as_bytes()) {
                return;
            }
            let chunk = vec![0u8; 64 * 1024];
            let mut total = 0u64;
            while total < *cap && !stop.load(Ordering::SeqCst) && send(&chunk) {
                total += chunk.len() as u64;
            }
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` within a body of `len` bytes (RFC 9110 §14.1.2).
fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let last = len.checked_sub(1)?;
    match (start.trim(), end.trim()) {
        ("", n) => Some((len.saturating_sub(n.parse().ok()?), last)),
        (a, "") => Some((a.parse().ok()?, last)).filter(|(a, _)| *a <= last),
        (a, b) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b && a <= last).then_some((a, b.min(last)))
        }
    }
}

/// The path of a request (`GET /simple/x/ HTTP/1.1` → `/simple/x/`), query dropped, and its
/// `Range` header.
fn read_request(stream: &mut TcpStream) -> Option<(String, Option<String>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte).ok()?;
        if n == 0 || head.len() > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(byte.get(..n)?);
    }
    let text = String::from_utf8_lossy(&head);
    let target = text.lines().next()?.split(' ').nth(1)?;
    let range = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("range")
            .then(|| value.trim().to_string())
    });
    Some((target.split('?').next()?.to_string(), range))
}
