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

/// How an answer's body is framed.
#[derive(Clone)]
pub enum Body {
    /// The bytes, with their true `Content-Length`.
    Exact(Vec<u8>),
    /// The bytes, with this `Content-Length` whatever their real length.
    Declared { bytes: Vec<u8>, content_length: u64 },
    /// The bytes with no `Content-Length`: the body ends when the connection closes.
    Unframed(Vec<u8>),
    /// Zeros without `Content-Length` until the client goes away or `cap` bytes were sent
    /// (the cap only keeps a broken client from filling the disk forever).
    Endless { cap: u64 },
}

#[derive(Clone)]
pub struct Reply {
    pub content_type: String,
    pub body: Body,
}

impl Reply {
    pub fn html(text: impl Into<String>) -> Reply {
        Reply {
            content_type: "text/html".into(),
            body: Body::Exact(text.into().into_bytes()),
        }
    }

    /// A PEP 691 JSON project page.
    pub fn simple_json(text: impl Into<String>) -> Reply {
        Reply {
            content_type: "application/vnd.pypi.simple.v1+json".into(),
            body: Body::Exact(text.into().into_bytes()),
        }
    }

    pub fn file(body: Body) -> Reply {
        Reply {
            content_type: "application/octet-stream".into(),
            body,
        }
    }
}

pub struct CannedServer {
    port: u16,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    stop: Arc<AtomicBool>,
    /// Bytes of body written, over all answers (to tell a cut-off download from a read one).
    sent: Arc<AtomicU64>,
    accept: Option<JoinHandle<()>>,
}

impl CannedServer {
    pub fn start() -> CannedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let accept = {
            let (routes, stop, sent) = (Arc::clone(&routes), Arc::clone(&stop), Arc::clone(&sent));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, stop, sent) =
                        (Arc::clone(&routes), Arc::clone(&stop), Arc::clone(&sent));
                    std::thread::spawn(move || serve(stream, &routes, &stop, &sent));
                }
            })
        };
        CannedServer {
            port,
            routes,
            stop,
            sent,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn route(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_string(), reply);
    }

    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
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
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let Some(path) = read_request_path(&mut stream) else {
        return;
    };
    let reply = routes.lock().expect("routes").get(&path).cloned();
    let Some(reply) = reply else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
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
        Body::Endless { cap } => {
            if !send(head(None).as_bytes()) {
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

/// The path of a request (`GET /simple/x/ HTTP/1.1` → `/simple/x/`), query dropped.
fn read_request_path(stream: &mut TcpStream) -> Option<String> {
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
    Some(target.split('?').next()?.to_string())
}
