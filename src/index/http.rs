//! The one HTTP client of a run: shared connection pool (keep-alive, HTTP/2 where offered),
//! per-origin credentials, TLS settings, and retry of idempotent reads (the run's one
//! [`crate::retry`] policy).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Response, StatusCode};
use url::Url;

use super::error::IndexError;
use super::host_limit::{HostLimits, Load, Thresholds};
use super::safe_url::{redact, split_credentials};
use super::tls::{TlsFiles, client_config};
use crate::retry::{RetryPolicy, TransportFailure, is_transient_status, retry_after};

/// TLS and retry settings of the client (flags and environment are merged by the caller).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// CA bundle, client certificate and key (see [`super::tls`]).
    pub tls: TlsFiles,
    /// Retries after the first attempt for transient failures.
    pub retries: u32,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// The first backoff ceiling; doubles per retry, with full jitter ([`crate::retry`]).
    pub backoff: Duration,
    /// Index requests at once per server (`--host-concurrency`), the bound the adaptive
    /// limit of [`super::host_limit`] moves under.
    pub host_concurrency: usize,
    /// Print each change of a server's limit (`-v`).
    pub verbose: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tls: TlsFiles::default(),
            retries: 5,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            backoff: Duration::from_millis(250),
            host_concurrency: DEFAULT_HOST_CONCURRENCY,
            verbose: false,
        }
    }
}

/// `--host-concurrency`'s default: enough to keep a fast server busy, few enough that a
/// devpi whose pages each hold a worker for seconds is not flooded before the limit learns.
pub const DEFAULT_HOST_CONCURRENCY: usize = 8;

/// After this many failed requests in a row to one server, without an answer between them,
/// the server counts as down ([`IndexError::Down`]): the run stops instead of failing every
/// project's jobs one by one. Each of these requests has used up its retries.
const DOWN_AFTER: usize = 8;

/// Failed requests in a row per origin (reset by any answer that is not a transient status).
#[derive(Default)]
struct Health {
    failures: Mutex<HashMap<String, usize>>,
}

impl Health {
    fn answered(&self, origin: &str) {
        self.failures.lock().expect("health lock").remove(origin);
    }

    /// Counts a failure; how many there have been in a row.
    fn failed(&self, origin: &str) -> usize {
        let mut failures = self.failures.lock().expect("health lock");
        let count = failures.entry(origin.to_string()).or_insert(0);
        *count += 1;
        *count
    }
}

/// How to authenticate against one origin (`scheme://host:port`).
#[derive(Clone)]
pub enum Credentials {
    /// HTTP basic, for the standard upload API and reverse proxies.
    Basic { user: String, password: String },
    /// devpi: `X-Devpi-Auth: base64(user:token)`; an optional basic pair for a proxy in front.
    Devpi {
        user: String,
        token: String,
        proxy_basic: Option<(String, String)>,
    },
}

impl std::fmt::Debug for Credentials {
    // Never print a secret, not even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { user, .. } => write!(f, "Basic({user}, ***)"),
            Credentials::Devpi { user, .. } => write!(f, "Devpi({user}, ***)"),
        }
    }
}

#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    config: Arc<ClientConfig>,
    credentials: Arc<RwLock<HashMap<String, Credentials>>>,
    limits: Arc<HostLimits>,
    health: Arc<Health>,
}

/// The origin key under which credentials are stored.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl HttpClient {
    pub fn new(config: ClientConfig) -> Result<Self, IndexError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("wheelwright/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .pool_max_idle_per_host(32)
            .redirect(reqwest::redirect::Policy::limited(5));
        // Our own rustls configuration: reqwest's would refuse v1 client certificates and
        // a bundle with one unparsable entry (see `super::tls`).
        builder = builder.use_preconfigured_tls(client_config(&config.tls)?);
        let inner = builder.build().map_err(|e| {
            IndexError::Config(format!(
                "cannot set up the HTTP client: {}",
                error_chain(&e)
            ))
        })?;
        let limits = HostLimits::new(
            config.host_concurrency,
            Thresholds::for_timeout(config.read_timeout),
            config.verbose,
        );
        Ok(HttpClient {
            inner,
            config: Arc::new(config),
            credentials: Arc::new(RwLock::new(HashMap::new())),
            limits: Arc::new(limits),
            health: Arc::default(),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// The per-server limits of index requests (their bound, and every change so far).
    pub fn host_limits(&self) -> &HostLimits {
        &self.limits
    }

    pub fn set_credentials(&self, url: &Url, credentials: Credentials) {
        self.credentials
            .write()
            .expect("credentials lock")
            .insert(origin_of(url), credentials);
    }

    pub fn credentials(&self, url: &Url) -> Option<Credentials> {
        self.credentials
            .read()
            .expect("credentials lock")
            .get(&origin_of(url))
            .cloned()
    }

    /// Takes credentials out of a URL (`https://user:pw@host/...`) and remembers them for
    /// that origin unless some are already set; returns the clean URL.
    pub fn adopt_url_credentials(&self, url: &Url) -> Url {
        let (clean, creds) = split_credentials(url);
        if let Some((user, password)) = creds {
            let mut map = self.credentials.write().expect("credentials lock");
            map.entry(origin_of(&clean))
                .or_insert(Credentials::Basic { user, password });
        }
        clean
    }

    /// Authentication headers for a request to `url`.
    pub fn auth_headers(&self, url: &Url) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let b64 =
            |u: &str, p: &str| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        match self.credentials(url) {
            Some(Credentials::Basic { user, password }) => {
                if let Ok(v) = HeaderValue::from_str(&format!("Basic {}", b64(&user, &password))) {
                    headers.insert(AUTHORIZATION, v);
                }
            }
            Some(Credentials::Devpi {
                user,
                token,
                proxy_basic,
            }) => {
                if let Ok(v) = HeaderValue::from_str(&b64(&user, &token)) {
                    headers.insert("X-Devpi-Auth", v);
                }
                if let Some((u, p)) = proxy_basic
                    && let Ok(v) = HeaderValue::from_str(&format!("Basic {}", b64(&u, &p)))
                {
                    headers.insert(AUTHORIZATION, v);
                }
            }
            None => {}
        }
        headers
    }

    /// The run's retry policy (`--retries`), shared by reads, downloads and uploads.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::new(self.config.retries, self.config.backoff)
    }

    /// The same client (connection pool, credentials, TLS) whose reads make one attempt: for
    /// an operation that counts the read's failures against its own retry budget, so that no
    /// retry loop runs inside another.
    pub fn single_attempt(&self) -> HttpClient {
        HttpClient {
            inner: self.inner.clone(),
            config: Arc::new(ClientConfig {
                retries: 0,
                ..(*self.config).clone()
            }),
            credentials: Arc::clone(&self.credentials),
            limits: Arc::clone(&self.limits),
            health: Arc::clone(&self.health),
        }
    }

    /// GET with retry of transient failures ([`crate::retry`]: connection problems,
    /// timeouts, the transient statuses, honouring `Retry-After`). Non-success answers that
    /// are not transient are returned as they are, so the caller can tell 404 ("no such
    /// project") from a failure. Each attempt waits for a place in the server's limit
    /// ([`super::host_limit`]) and tells it how the server answered. A server whose last
    /// requests all failed is reported [`IndexError::Down`].
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Response, IndexError> {
        let origin = origin_of(url);
        let attempt = || async {
            let request = self
                .inner
                .get(url.clone())
                .header(ACCEPT, accept)
                .headers(self.auth_headers(url));
            let permit = self.limits.acquire(&origin).await;
            let started = Instant::now();
            let outcome = request.send().await;
            let load = match &outcome {
                Ok(response) if matches!(response.status().as_u16(), 429 | 503) => Load::Overloaded,
                Ok(_) => self.limits.thresholds().classify(started.elapsed()),
                Err(error) if error.is_timeout() => Load::Overloaded,
                Err(_) => Load::Normal,
            };
            self.limits.finish(permit, load);
            match outcome {
                Ok(response) if is_transient_status(response.status().as_u16()) => {
                    Err(Unanswered::Status(response))
                }
                Ok(response) => Ok(response),
                Err(error) => Err(Unanswered::Transport(error)),
            }
        };
        match crate::retry::retrying(self.retry_policy(), attempt).await {
            Ok(response) => {
                self.health.answered(&origin);
                Ok(response)
            }
            // A transient status that outlasted the retries is the caller's to judge (its
            // status says what it was), unless the server has failed every recent request.
            Err(Unanswered::Status(response)) => {
                let failures = self.health.failed(&origin);
                if failures >= DOWN_AFTER {
                    return Err(IndexError::Down {
                        url: redact(url),
                        failures,
                        detail: format!("HTTP {}", response.status()),
                    });
                }
                Ok(response)
            }
            Err(Unanswered::Transport(error)) => {
                let failures = self.health.failed(&origin);
                match transport_error(url, &error) {
                    IndexError::Unreachable { url, detail, .. } if failures >= DOWN_AFTER => {
                        Err(IndexError::Down {
                            url,
                            failures,
                            detail,
                        })
                    }
                    other => Err(other),
                }
            }
        }
    }
}

/// A GET attempt that got no usable answer: a transient status (429, 5xx; retried, honouring
/// `Retry-After`) or a transport failure (retried when [`TransportFailure`] says so).
enum Unanswered {
    Status(Response),
    Transport(reqwest::Error),
}

impl crate::retry::Transient for Unanswered {
    fn is_transient(&self) -> bool {
        match self {
            Unanswered::Status(_) => true,
            Unanswered::Transport(error) => TransportFailure::of(error).is_transient(),
        }
    }
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Unanswered::Status(response) => retry_after(response),
            Unanswered::Transport(_) => None,
        }
    }
}

/// What a TLS failure usually means, for the user who has to fix it.
fn tls_hint(error: &rustls::Error) -> Option<&'static str> {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error};
    Some(match error {
        Error::InvalidCertificate(Cert::UnknownIssuer) => {
            "the server's certificate is not signed by a trusted CA: add the CA with --ca-bundle \
             (or PIP_CERT, REQUESTS_CA_BUNDLE)"
        }
        Error::InvalidCertificate(Cert::NotValidForName | Cert::NotValidForNameContext { .. }) => {
            "the server's certificate does not name this host or IP address in its subjectAltName"
        }
        Error::InvalidCertificate(Cert::Expired | Cert::ExpiredContext { .. }) => {
            "the server's certificate has expired"
        }
        Error::InvalidCertificate(Cert::NotValidYet | Cert::NotValidYetContext { .. }) => {
            "the server's certificate is not valid yet (is the clock right?)"
        }
        Error::AlertReceived(Alert::CertificateRequired) => {
            "the server wants a client certificate: --client-cert"
        }
        Error::AlertReceived(
            Alert::UnknownCA | Alert::BadCertificate | Alert::CertificateUnknown,
        ) => {
            "the server refused the client certificate (--client-cert): is it signed by a CA the server trusts?"
        }
        _ => return None,
    })
}

/// An error and its causes on one line (reqwest's own message hides the cause).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// Turns a reqwest error into the index error that says what went wrong, without the
/// credentials reqwest may have kept in the URL.
pub fn transport_error(url: &Url, error: &reqwest::Error) -> IndexError {
    if let Some(cause) = crate::retry::rustls_cause(error) {
        // rustls' own error is the cause; reqwest's wrapping only repeats the URL.
        let detail = match tls_hint(cause) {
            Some(hint) => format!("{cause}: {hint}"),
            None => cause.to_string(),
        };
        return IndexError::Tls {
            url: redact(url),
            detail,
        };
    }
    let mut detail = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    // The source chain carries the useful part (refused, reset, certificate unknown).
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !text.is_empty() && !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = inner.source();
    }
    IndexError::Unreachable {
        url: redact(url),
        detail,
        failure: TransportFailure::of(error),
    }
}

/// Reads a non-success answer into an [`IndexError`], with devpi's message where it has one
/// (JSON `message`/`title`, or the reason phrase).
pub async fn status_error(url: &Url, response: Response) -> IndexError {
    let status = response.status();
    let body = super::body::error_text(response).await;
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            ["title", "message", "code"].iter().find_map(|k| {
                v.get(*k)
                    .and_then(|m| m.as_str())
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(String::from)
            })
        })
        .or_else(|| html_title(&body))
        .unwrap_or_else(|| {
            let text: String = body.chars().take(200).collect();
            if text.trim().is_empty() {
                status.canonical_reason().unwrap_or("").to_string()
            } else {
                text.trim().to_string()
            }
        });
    let message = if status == StatusCode::BAD_REQUEST
        && message.to_ascii_lowercase().contains("certificate")
    {
        format!("{message} (the server wants a client certificate: --client-cert)")
    } else {
        message
    };
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return IndexError::Unauthorized {
            url: redact(url),
            status: status.as_u16(),
            hint: if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            },
        };
    }
    IndexError::Status {
        url: redact(url),
        status: status.as_u16(),
        message,
    }
}

/// The `<title>` of an HTML error page (nginx, devpi), which says it in a few words.
fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    // ASCII lowercasing keeps every byte offset, so offsets in `lower` are offsets in `body`.
    let end = start + lower.get(start..)?.find("</title>")?;
    let title = body.get(start..end)?.trim();
    (!title.is_empty()).then(|| title.to_string())
}
