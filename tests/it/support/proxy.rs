//! A fault-injecting HTTP/1.1 reverse proxy between wheelwright and the real devpi-server
//! (faults come from a small proxy in the test support code, in front of a real server).
//!
//! Plain std threads and sockets: one thread accepts, one thread serves each client
//! connection (keep-alive: many requests per connection, as reqwest's pool reuses them), and
//! every forwarded request gets a fresh connection to the server. Request and response
//! bodies are relayed byte for byte in their own framing (Content-Length, chunked, or until
//! close); nothing is rewritten, not even the `Host` header, so devpi builds the absolute
//! URLs in its JSON answers (`+links` hrefs) from the proxy's address. wheelwright only
//! follows those hrefs for downloads, and the upload check reads filenames and hashes, so
//! either address would do.
//!
//! Faults are scripted per request: a [`Match`] (method and path, or "the upload POST of this
//! filename", read from the multipart body) and a [`When`] (which occurrences of that match).
//! Each rule counts its own matches, so two rules with the same match and `When::Nth(1)` and
//! `When::Nth(2)` fault the first and the second occurrence. The first due rule wins.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often blocked reads and holds look at the stop/down flags.
const TICK: Duration = Duration::from_millis(20);
/// Largest request or response head we accept.
const MAX_HEAD: usize = 64 * 1024;

/// What the proxy does to a request a rule picked.
#[derive(Clone)]
pub(crate) enum Fault {
    /// Read the request, then close the connection without answering.
    Reset,
    /// Answer this status (with `Retry-After: secs` when given) without forwarding.
    Status(u16, Option<u32>),
    /// Hold the request this long (longer than the client's timeout, typically), then
    /// forward it (`forward: true`, so it lands late) or close the connection.
    Delay { hold: Duration, forward: bool },
    /// Forward the request (the server stores the upload), then answer this status to the
    /// client instead of the server's answer: "stores, then answers 500".
    StoreThenStatus(u16),
    /// Run a side effect (e.g. upload other bytes under the same filename directly to the
    /// server), then forward the request as usual.
    Race(Arc<dyn Fn() + Send + Sync>),
    /// The target goes away: close this connection and every other one, and stop listening,
    /// so later connections are refused.
    GoDown,
}

impl Fault {
    fn describe(&self) -> String {
        match self {
            Fault::Reset => "reset".into(),
            Fault::Status(code, None) => format!("status {code}"),
            Fault::Status(code, Some(secs)) => format!("status {code} (Retry-After: {secs})"),
            Fault::Delay { hold, forward } => format!(
                "delay {hold:?} then {}",
                if *forward { "forward" } else { "drop" }
            ),
            Fault::StoreThenStatus(code) => format!("store then status {code}"),
            Fault::Race(_) => "race".into(),
            Fault::GoDown => "go down".into(),
        }
    }
}

/// What the proxy knows about a request when it decides.
#[derive(Debug, Clone)]
pub(crate) struct RequestInfo {
    pub method: String,
    /// Path with query, as sent (`/alice/target/ww-alpha?ignore_bases`).
    pub path: String,
    /// For multipart uploads: the `filename` of the file part.
    pub upload_filename: Option<String>,
    /// The body came with `Transfer-Encoding: chunked` (else Content-Length or none).
    pub chunked: bool,
}

/// Which requests a rule looks at.
pub(crate) struct Match(Box<dyn Fn(&RequestInfo) -> bool + Send + Sync>);

impl Match {
    pub(crate) fn new(predicate: impl Fn(&RequestInfo) -> bool + Send + Sync + 'static) -> Match {
        Match(Box::new(predicate))
    }
    /// Every request.
    pub(crate) fn any() -> Match {
        Match::new(|_| true)
    }
    /// Every upload POST (a multipart body with a file part).
    pub(crate) fn uploads() -> Match {
        Match::new(|r| r.method == "POST" && r.upload_filename.is_some())
    }
    /// The upload POSTs of one file.
    pub(crate) fn upload_of(filename: &str) -> Match {
        let filename = filename.to_string();
        Match::new(move |r| r.method == "POST" && r.upload_filename.as_deref() == Some(&filename))
    }
    /// `method` to exactly this path (with query).
    pub(crate) fn request(method: &str, path: &str) -> Match {
        let (method, path) = (method.to_string(), path.to_string());
        Match::new(move |r| r.method == method && r.path == path)
    }
}

/// Which occurrences (1-based, counted per rule) of a match are faulted.
#[derive(Debug, Clone)]
pub(crate) enum When {
    Nth(usize),
    /// The n-th and every later one.
    From(usize),
    Always,
}

impl When {
    fn due(&self, occurrence: usize) -> bool {
        match self {
            When::Nth(n) => occurrence == *n,
            When::From(n) => occurrence >= *n,
            When::Always => true,
        }
    }
}

struct Rule {
    matcher: Match,
    when: When,
    fault: Fault,
    seen: usize,
}

/// One request the proxy read, and what became of it.
#[derive(Debug, Clone)]
pub(crate) struct LoggedRequest {
    pub request: RequestInfo,
    /// The fault applied, if any (`Fault::describe`).
    pub fault: Option<String>,
    /// Whether the request reached the server.
    pub forwarded: bool,
    /// The status the client got; `None` when the connection was closed instead.
    pub status: Option<u16>,
}

struct State {
    upstream: SocketAddr,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<LoggedRequest>>,
    seen: AtomicU64,
    faulted: AtomicU64,
    connections: AtomicU64,
    /// Requests being handled right now, and the most there have been at once.
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    stopped: AtomicBool,
    down: AtomicBool,
}

impl State {
    fn halted(&self) -> bool {
        self.stopped.load(Ordering::SeqCst) || self.down.load(Ordering::SeqCst)
    }
}

/// A running proxy; dropping it stops it.
pub(crate) struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream` (`http://127.0.0.1:PORT`).
    pub(crate) fn start(upstream: &str) -> FaultProxy {
        let parsed = url::Url::parse(upstream)
            .unwrap_or_else(|e| panic!("proxy upstream {upstream:?} is not a URL: {e}"));
        let upstream_addr = parsed
            .socket_addrs(|| None)
            .ok()
            .and_then(|a| a.into_iter().next())
            .unwrap_or_else(|| panic!("proxy upstream {upstream:?} has no address"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("proxy: non-blocking listener");
        let addr = listener.local_addr().expect("proxy: local_addr");
        let state = Arc::new(State {
            upstream: upstream_addr,
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            seen: AtomicU64::new(0),
            faulted: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            down: AtomicBool::new(false),
        });
        let accept_state = state.clone();
        let acceptor = std::thread::Builder::new()
            .name(format!("proxy-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_state))
            .expect("proxy: spawn acceptor");
        FaultProxy {
            addr,
            state,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a rule (rules are tried in the order they were added).
    pub(crate) fn on(&self, matcher: Match, when: When, fault: Fault) -> &Self {
        self.state.rules.lock().unwrap().push(Rule {
            matcher,
            when,
            fault,
            seen: 0,
        });
        self
    }

    /// Requests read from clients (faulted or not).
    pub(crate) fn requests_seen(&self) -> u64 {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// Client connections accepted (fewer than requests when keep-alive works).
    pub(crate) fn connections_accepted(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// The most requests the proxy was handling at once (from reading one to answering it).
    pub(crate) fn max_in_flight(&self) -> u64 {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests a rule applied a fault to.
    pub(crate) fn faults_injected(&self) -> u64 {
        self.state.faulted.load(Ordering::SeqCst)
    }

    pub(crate) fn log(&self) -> Vec<LoggedRequest> {
        self.state.log.lock().unwrap().clone()
    }

    /// `(method, path)` of every request seen since the first `from` (a mark taken with
    /// `log().len()`).
    pub(crate) fn requests_since(&self, from: usize) -> Vec<(String, String)> {
        self.state.log.lock().unwrap()[from..]
            .iter()
            .map(|r| (r.request.method.clone(), r.request.path.clone()))
            .collect()
    }

    /// POSTs to `path` that reached the server.
    pub(crate) fn posts_forwarded(&self, path: &str) -> usize {
        self.count(|r| r.forwarded && r.request.method == "POST" && r.request.path == path)
    }

    /// Upload POSTs of `filename` the proxy read (what the client sent).
    pub(crate) fn uploads_seen(&self, filename: &str) -> usize {
        self.count(|r| {
            r.request.method == "POST" && r.request.upload_filename.as_deref() == Some(filename)
        })
    }

    /// Upload POSTs of `filename` that reached the server.
    pub(crate) fn uploads_forwarded(&self, filename: &str) -> usize {
        self.count(|r| {
            r.forwarded
                && r.request.method == "POST"
                && r.request.upload_filename.as_deref() == Some(filename)
        })
    }

    /// Whether a `GoDown` fault has fired.
    pub(crate) fn is_down(&self) -> bool {
        self.state.down.load(Ordering::SeqCst)
    }

    fn count(&self, predicate: impl Fn(&LoggedRequest) -> bool) -> usize {
        self.state
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| predicate(r))
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, state: Arc<State>) {
    // Non-blocking accept with a short sleep, so stop and go-down close the listening socket
    // (after going down, connections are refused, as by a server that went away).
    while !state.halted() {
        match listener.accept() {
            Ok((stream, _)) => {
                state.connections.fetch_add(1, Ordering::SeqCst);
                let conn_state = state.clone();
                let spawned = std::thread::Builder::new()
                    .name("proxy-conn".into())
                    .spawn(move || serve(stream, conn_state));
                if let Err(e) = spawned {
                    eprintln!("proxy: cannot spawn a connection thread: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(TICK / 4),
            Err(e) => {
                eprintln!("proxy: accept failed: {e}");
                std::thread::sleep(TICK);
            }
        }
    }
}

/// A parsed message head plus the raw bytes, which are what gets relayed.
struct Head {
    raw: Vec<u8>,
    /// Request: method; response: status code.
    first: String,
    second: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// How a body ends.
enum Framing {
    None,
    Length(usize),
    Chunked,
    UntilClose,
}

/// A buffered reader over a socket with a short read timeout, so waiting for the next
/// request notices when the proxy stops or goes down.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Client side: the proxy whose stop/down flags end the wait. The server side waits
    /// plainly (up to its read timeout).
    watch: Option<Arc<State>>,
}

impl Conn {
    /// Reads more bytes into `buf`; `Ok(0)` at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.watch.as_ref().is_some_and(|s| s.halted()) {
                return Err(io::Error::other("proxy stopped"));
            }
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e)
                    if self.watch.is_some()
                        && matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "body cut short",
                ));
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                return Ok(self.buf.drain(..at + 2).collect());
            }
            if self.buf.len() > MAX_HEAD || self.fill()? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no line end"));
            }
        }
    }

    /// The next message head; `Ok(None)` at a clean end of stream between messages.
    fn head(&mut self) -> io::Result<Option<Head>> {
        loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let raw: Vec<u8> = self.buf.drain(..at + 4).collect();
                return parse_head(raw).map(Some);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::other("message head too large"));
            }
            if self.fill()? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "head cut short",
                    ))
                };
            }
        }
    }

    /// The body in its framing: (raw bytes to relay, decoded content).
    fn body(&mut self, framing: Framing) -> io::Result<(Vec<u8>, Vec<u8>)> {
        match framing {
            Framing::None => Ok((Vec::new(), Vec::new())),
            Framing::Length(n) => {
                let raw = self.take(n)?;
                Ok((raw.clone(), raw))
            }
            Framing::Chunked => {
                let (mut raw, mut decoded) = (Vec::new(), Vec::new());
                loop {
                    let line = self.line()?;
                    raw.extend_from_slice(&line);
                    let text = String::from_utf8_lossy(&line);
                    let size = text.trim().split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(size, 16)
                        .map_err(|_| io::Error::other(format!("bad chunk size {text:?}")))?;
                    if size == 0 {
                        // Trailer fields, then the empty line.
                        loop {
                            let trailer = self.line()?;
                            raw.extend_from_slice(&trailer);
                            if trailer == b"\r\n" {
                                return Ok((raw, decoded));
                            }
                        }
                    }
                    let data = self.take(size + 2)?;
                    decoded.extend_from_slice(&data[..size]);
                    raw.extend_from_slice(&data);
                }
            }
            Framing::UntilClose => {
                while self.fill()? > 0 {}
                let raw = std::mem::take(&mut self.buf);
                Ok((raw.clone(), raw))
            }
        }
    }
}

fn parse_head(raw: Vec<u8>) -> io::Result<Head> {
    let text = String::from_utf8_lossy(&raw).into_owned();
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or_default();
    let mut parts = start.splitn(3, ' ');
    let (a, b, c) = (parts.next(), parts.next(), parts.next());
    // Request line `METHOD PATH VERSION`, status line `VERSION CODE REASON`.
    let (first, second) = if start.starts_with("HTTP/") {
        (b.unwrap_or_default(), c.unwrap_or_default())
    } else {
        (a.unwrap_or_default(), b.unwrap_or_default())
    };
    if first.is_empty() {
        return Err(io::Error::other(format!("bad start line {start:?}")));
    }
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Head {
        raw,
        first: first.to_string(),
        second: second.to_string(),
        headers,
    })
}

fn request_framing(head: &Head) -> io::Result<Framing> {
    if head.has_token("Transfer-Encoding", "chunked") {
        return Ok(Framing::Chunked);
    }
    match head.header("Content-Length") {
        Some(n) => n
            .parse()
            .map(Framing::Length)
            .map_err(|_| io::Error::other(format!("bad Content-Length {n:?}"))),
        None => Ok(Framing::None),
    }
}

fn response_framing(request_method: &str, head: &Head) -> io::Result<Framing> {
    let status: u16 = head.first.parse().unwrap_or(0);
    if request_method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::None);
    }
    if head.has_token("Transfer-Encoding", "chunked") {
        return Ok(Framing::Chunked);
    }
    match head.header("Content-Length") {
        Some(n) => n
            .parse()
            .map(Framing::Length)
            .map_err(|_| io::Error::other(format!("bad Content-Length {n:?}"))),
        None => Ok(Framing::UntilClose),
    }
}

/// The `filename="..."` of a multipart body's file part.
fn upload_filename(head: &Head, body: &[u8]) -> Option<String> {
    if !head
        .header("Content-Type")
        .is_some_and(|v| v.starts_with("multipart/form-data"))
    {
        return None;
    }
    let needle = b"filename=\"";
    let at = body.windows(needle.len()).position(|w| w == needle)? + needle.len();
    let end = body[at..].iter().position(|&b| b == b'"')?;
    Some(String::from_utf8_lossy(&body[at..at + end]).into_owned())
}

/// Serves one client connection until it closes, the proxy stops, or a fault closes it.
fn serve(stream: TcpStream, state: Arc<State>) {
    // Blocking reads with a short timeout (the listener is non-blocking; BSDs pass that on).
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(TICK));
    let _ = stream.set_nodelay(true);
    let mut client = Conn {
        stream,
        buf: Vec::new(),
        watch: Some(state.clone()),
    };
    loop {
        let head = match client.head() {
            Ok(Some(head)) => head,
            Ok(None) | Err(_) => return,
        };
        let body = request_framing(&head).and_then(|f| client.body(f));
        let Ok((raw_body, decoded)) = body else {
            return;
        };
        let info = RequestInfo {
            method: head.first.clone(),
            path: head.second.clone(),
            upload_filename: upload_filename(&head, &decoded),
            chunked: head.has_token("Transfer-Encoding", "chunked"),
        };
        state.seen.fetch_add(1, Ordering::SeqCst);
        let keep_alive = !head.has_token("Connection", "close");
        let fault = pick(&state, &info);
        // Logged as soon as it is read, and updated before the client sees an answer, so a
        // test that got its answer (or was killed) finds every request it sent in the log.
        let entry = {
            let mut log = state.log.lock().unwrap();
            log.push(LoggedRequest {
                request: info.clone(),
                fault: fault.as_ref().map(|f| f.describe()),
                forwarded: false,
                status: None,
            });
            Entry(log.len() - 1)
        };
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let open = handle(&state, &mut client, &head, &raw_body, fault, entry);
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !open || !keep_alive {
            let _ = client.stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// The fault of the first due rule, counting the request against every matching rule.
fn pick(state: &State, info: &RequestInfo) -> Option<Fault> {
    let mut rules = state.rules.lock().unwrap();
    let mut chosen = None;
    for rule in rules.iter_mut() {
        if !(rule.matcher.0)(info) {
            continue;
        }
        rule.seen += 1;
        if chosen.is_none() && rule.when.due(rule.seen) {
            chosen = Some(rule.fault.clone());
        }
    }
    if chosen.is_some() {
        state.faulted.fetch_add(1, Ordering::SeqCst);
    }
    chosen
}

/// A request's place in the log.
#[derive(Clone, Copy)]
struct Entry(usize);

impl Entry {
    fn set(self, state: &State, forwarded: bool, status: u16) {
        let mut log = state.log.lock().unwrap();
        log[self.0].forwarded = forwarded;
        log[self.0].status = Some(status);
    }
}

/// Applies the fault (or none) to one request. Returns whether the client connection stays
/// open.
fn handle(
    state: &State,
    client: &mut Conn,
    head: &Head,
    body: &[u8],
    fault: Option<Fault>,
    entry: Entry,
) -> bool {
    let method = head.first.as_str();
    match &fault {
        None => relay(state, client, head, body, method, entry),
        Some(Fault::Reset) => false,
        Some(Fault::GoDown) => {
            state.down.store(true, Ordering::SeqCst);
            false
        }
        Some(Fault::Status(code, retry_after)) => {
            entry.set(state, false, *code);
            answer(&mut client.stream, *code, *retry_after).is_ok()
        }
        Some(Fault::Delay { hold, forward }) => {
            let until = Instant::now() + *hold;
            while Instant::now() < until {
                if state.halted() {
                    return false;
                }
                std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
            }
            *forward && relay(state, client, head, body, method, entry)
        }
        Some(Fault::StoreThenStatus(code)) => match exchange(state, head, body, method) {
            Ok(_) => {
                entry.set(state, true, *code);
                answer(&mut client.stream, *code, None).is_ok()
            }
            Err(e) => {
                eprintln!("proxy: forwarding {method} {} failed: {e}", head.second);
                false
            }
        },
        Some(Fault::Race(side_effect)) => {
            side_effect();
            relay(state, client, head, body, method, entry)
        }
    }
}

/// Forwards the request and relays the server's answer. Returns whether the client
/// connection stays open.
fn relay(
    state: &State,
    client: &mut Conn,
    head: &Head,
    body: &[u8],
    method: &str,
    entry: Entry,
) -> bool {
    match exchange(state, head, body, method) {
        Ok((response, raw_body, until_close)) => {
            entry.set(state, true, response.first.parse().unwrap_or(0));
            let sent = client
                .stream
                .write_all(&response.raw)
                .and_then(|()| client.stream.write_all(&raw_body))
                .and_then(|()| client.stream.flush());
            sent.is_ok() && !until_close && !response.has_token("Connection", "close")
        }
        Err(e) => {
            eprintln!("proxy: forwarding {method} {} failed: {e}", head.second);
            false
        }
    }
}

/// One request on a fresh server connection: (response head, raw body, body ran until close).
fn exchange(
    state: &State,
    head: &Head,
    body: &[u8],
    method: &str,
) -> io::Result<(Head, Vec<u8>, bool)> {
    let mut upstream = TcpStream::connect(state.upstream)?;
    upstream.set_read_timeout(Some(Duration::from_secs(120)))?;
    upstream.write_all(&head.raw)?;
    upstream.write_all(body)?;
    upstream.flush()?;
    let mut server = Conn {
        stream: upstream,
        buf: Vec::new(),
        watch: None,
    };
    loop {
        let response = server
            .head()?
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "server closed"))?;
        let status: u16 = response.first.parse().unwrap_or(0);
        if (100..200).contains(&status) {
            // An interim answer (100 Continue): the final one follows.
            continue;
        }
        let framing = response_framing(method, &response)?;
        let until_close = matches!(framing, Framing::UntilClose);
        let (raw, _) = server.body(framing)?;
        return Ok((response, raw, until_close));
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        401 => "Unauthorized",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Injected Fault",
    }
}

/// A made-up answer, as a load balancer or a restarted server would give it.
fn answer(stream: &mut TcpStream, code: u16, retry_after: Option<u32>) -> io::Result<()> {
    let body = format!("{code} {} (injected by the test proxy)\n", reason(code));
    let mut head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n",
        reason(code),
        body.len()
    );
    if let Some(secs) = retry_after {
        head.push_str(&format!("Retry-After: {secs}\r\n"));
    }
    if code == 401 {
        head.push_str("WWW-Authenticate: Basic realm=\"pypi\"\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}
