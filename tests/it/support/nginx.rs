//! A real nginx terminating TLS in front of the shared devpi-server, as enterprise devpi
//! installations run it: one server with TLS only, one that also demands a client
//! certificate (`ssl_verify_client on`).
//!
//! Certificates come from a throwaway CA made with the `openssl` CLI once per test process;
//! nginx runs as a single foreground process (`master_process off`, so it never switches to
//! an unprivileged worker user that could not read our 0700 temp dir) under the watchdog of
//! [`super::process`], so it dies with the test process. All its paths (pid, logs, temp
//! dirs) point into the temp dir: the compiled-in ones are under /var and /run.

use super::pki::{Ca, Extensions, KeyKind, SERVER_IP_ONLY, concat};
use super::process::WatchedProcess;
use super::{devpi, free_port, log_tail, test_venv};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const NGINX: &str = "/usr/sbin/nginx";
const START_DEADLINE: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 5;

pub(crate) const PROXY_USER: &str = "proxyuser";
pub(crate) const PROXY_PASSWORD: &str = "proxy-pw-7";

/// nginx on three loopback ports, proxying to [`devpi()`].
pub(crate) struct Nginx {
    /// The CA that signed the server certificate (PEM): what `--ca-bundle` needs.
    pub ca_pem: PathBuf,
    /// Client certificate and its PKCS#8 private key in one PEM file (`--client-cert`).
    pub client_pem: PathBuf,
    /// The client certificate alone, without its key.
    pub client_cert_only_pem: PathBuf,
    /// The CA the mTLS server trusts for client certificates (tests issue their own).
    pub client_ca: Ca,
    /// `https://127.0.0.1:PORT`: TLS only.
    pub tls_url: String,
    /// `https://127.0.0.1:PORT`: TLS and a client certificate signed by the client CA.
    pub mtls_url: String,
    /// `https://127.0.0.1:PORT`: TLS and HTTP basic auth ([`PROXY_USER`], [`PROXY_PASSWORD`])
    /// at nginx, which does not pass the header on: a reverse proxy's own login, separate
    /// from devpi's.
    pub basic_url: String,
    pub error_log: PathBuf,
    pub access_log: PathBuf,
    /// Held only so the watchdog's stdin stays open for the process lifetime.
    _process: Mutex<WatchedProcess>,
}

/// The nginx of this test process (and the devpi-server behind it), started on first use.
pub(crate) fn nginx() -> &'static Nginx {
    static NGINX_SERVER: OnceLock<Nginx> = OnceLock::new();
    NGINX_SERVER.get_or_init(Nginx::start)
}

impl Nginx {
    /// An instance of its own (new PKI, ports and logs), for tests that read nginx's logs;
    /// stopped when dropped.
    pub(crate) fn private() -> Nginx {
        Nginx::start()
    }

    /// nginx's error log so far (handshake failures are logged at `info`).
    pub(crate) fn error_log_text(&self) -> String {
        std::fs::read_to_string(&self.error_log)
            .unwrap_or_else(|e| panic!("read {}: {e}", self.error_log.display()))
    }

    /// Make a request that succeeds through the TLS-only server and wait until nginx has
    /// logged it. A client that has exited sent its last bytes (e.g. a TLS alert) before this
    /// request's handshake began, and nginx's one process reads them first: after this
    /// returns, what such a client caused is in the logs.
    pub(crate) fn log_barrier(&self) {
        let marker = super::unique("barrier");
        let ca = std::fs::read(&self.ca_pem).expect("read CA");
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("CA is PEM")])
            .timeout(Duration::from_secs(10))
            .build()
            .expect("build TLS test client");
        let url = format!("{}/+api?{marker}", self.tls_url);
        let response = client
            .get(&url)
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        let deadline = Instant::now() + START_DEADLINE;
        while !std::fs::read_to_string(&self.access_log)
            .unwrap_or_default()
            .contains(&marker)
        {
            assert!(
                Instant::now() < deadline,
                "nginx did not log {url} in {}",
                self.access_log.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Paths of the generated PKI.
struct Pki {
    ca_pem: PathBuf,
    server_pem: PathBuf,
    server_key: PathBuf,
    client_ca: Ca,
    client_pem: PathBuf,
    client_cert_only_pem: PathBuf,
}

impl Nginx {
    fn start() -> Nginx {
        assert!(
            Path::new(NGINX).is_file(),
            "{NGINX} is missing: run scripts/test.sh first (it installs nginx-light)"
        );
        let upstream = devpi().url();
        let venv = test_venv();
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            // A fresh dir per attempt: the watchdog of a failed attempt removes its dir.
            let dir = tempfile::Builder::new()
                .prefix(&super::temp_prefix("nginx"))
                .tempdir()
                .expect("create nginx dir")
                // The watchdog removes it after nginx exits.
                .keep();
            let pki = make_pki(&dir);
            let (tls_port, mtls_port, basic_port) = (free_port(), free_port(), free_port());
            let hash = std::process::Command::new("openssl")
                .args(["passwd", "-apr1", PROXY_PASSWORD])
                .output()
                .expect("run openssl passwd");
            assert!(hash.status.success(), "openssl passwd failed");
            let htpasswd = dir.join("htpasswd");
            std::fs::write(
                &htpasswd,
                format!("{PROXY_USER}:{}", String::from_utf8_lossy(&hash.stdout)),
            )
            .expect("write htpasswd");
            let conf = dir.join("nginx.conf");
            let ports = (tls_port, mtls_port, basic_port);
            std::fs::write(&conf, config(&dir, &pki, &upstream, ports, &htpasswd))
                .expect("write nginx.conf");
            let error_log = dir.join("error.log");
            let args: Vec<String> = vec![
                "-p".into(),
                path_str(&dir).into(),
                "-e".into(),
                path_str(&error_log).into(),
                "-c".into(),
                path_str(&conf).into(),
            ];
            let log = dir.join("nginx.out");
            let mut process =
                WatchedProcess::spawn(&venv, Path::new(NGINX), &args, &log, Some(&dir));
            let tls_url = format!("https://127.0.0.1:{tls_port}");
            let mtls_url = format!("https://127.0.0.1:{mtls_port}");
            let basic_url = format!("https://127.0.0.1:{basic_port}");
            match wait_ready(&pki, &tls_url, &mtls_url, &error_log, &mut process) {
                Ok(()) => {
                    return Nginx {
                        ca_pem: pki.ca_pem,
                        client_pem: pki.client_pem,
                        client_cert_only_pem: pki.client_cert_only_pem,
                        client_ca: pki.client_ca,
                        tls_url,
                        mtls_url,
                        basic_url,
                        error_log,
                        access_log: dir.join("access.log"),
                        _process: Mutex::new(process),
                    };
                }
                Err(why) => {
                    process.stop();
                    last = why;
                }
            }
        }
        panic!("nginx did not start after {PORT_ATTEMPTS} port pairs; last: {last}");
    }

    /// The same devpi URL (`http://127.0.0.1:DEVPI/user/index...`) through the TLS-only server.
    pub(crate) fn tls(&self, devpi_url: &str) -> String {
        rebase(devpi_url, &self.tls_url)
    }

    /// The same devpi URL through the server with HTTP basic auth, credentials in the URL.
    pub(crate) fn basic(&self, devpi_url: &str, credentials: Option<(&str, &str)>) -> String {
        let url = rebase(devpi_url, &self.basic_url);
        match credentials {
            Some((user, password)) => {
                url.replacen("https://", &format!("https://{user}:{password}@"), 1)
            }
            None => url,
        }
    }

    /// The same devpi URL through the server that demands a client certificate.
    pub(crate) fn mtls(&self, devpi_url: &str) -> String {
        rebase(devpi_url, &self.mtls_url)
    }

    /// The last lines of nginx's error log, for assertion messages.
    pub(crate) fn error_log_tail(&self) -> String {
        log_tail(&self.error_log, 40)
    }
}

/// Poll `GET /+api` through both servers (with our CA, and the client certificate for
/// the second) until devpi answers through them: proves nginx is ours and proxies.
fn wait_ready(
    pki: &Pki,
    tls_url: &str,
    mtls_url: &str,
    error_log: &Path,
    process: &mut WatchedProcess,
) -> Result<(), String> {
    let ca = std::fs::read(&pki.ca_pem).expect("read CA");
    let ca = reqwest::Certificate::from_pem(&ca).expect("CA is PEM");
    let identity = std::fs::read(&pki.client_pem).expect("read client PEM");
    let identity = reqwest::Identity::from_pem(&identity)
        .unwrap_or_else(|e| panic!("reqwest refuses the generated client PEM: {e}"));
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .identity(identity)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("build TLS test client");
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Some(status) = process.exited() {
            let tail = format!(
                "{}\n{}",
                log_tail(&process.log, 20),
                log_tail(error_log, 20)
            );
            if tail.contains("in use") {
                return Err(tail);
            }
            panic!("nginx exited during start-up ({status}); log tail:\n{tail}");
        }
        let answers = |base: &str| {
            client
                .get(format!("{base}/+api"))
                .header("Accept", "application/json")
                .send()
                .ok()
                .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
        };
        match (answers(tls_url), answers(mtls_url)) {
            (Some((200, tls_body)), Some((200, mtls_body))) => {
                // devpi builds its absolute URLs from X-outside-url: they must point back
                // through nginx, or wheelwright would follow them around the proxy.
                if !tls_body.contains(tls_url) || !mtls_body.contains(mtls_url) {
                    panic!(
                        "devpi's /+api through nginx does not name the nginx URLs:\n{tls_body}\n{mtls_body}"
                    );
                }
                return Ok(());
            }
            (Some((status, body)), _) | (_, Some((status, body))) if status != 200 => {
                return Err(format!(
                    "127.0.0.1 answers {status} but is not our nginx: {body}"
                ));
            }
            _ => {}
        }
        if Instant::now() > deadline {
            panic!(
                "nginx at {} / {} not ready after {START_DEADLINE:?}; error log:\n{}",
                tls_url,
                mtls_url,
                log_tail(error_log, 40)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn rebase(devpi_url: &str, base: &str) -> String {
    let origin = devpi().url();
    let rest = devpi_url
        .strip_prefix(&origin)
        .unwrap_or_else(|| panic!("{devpi_url} is not a URL of the devpi server {origin}"));
    format!("{base}{rest}")
}

fn path_str(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", path.display()))
}

fn config(
    dir: &Path,
    pki: &Pki,
    upstream: &str,
    ports: (u16, u16, u16),
    htpasswd: &Path,
) -> String {
    let (tls_port, mtls_port, basic_port) = ports;
    let d = path_str(dir);
    let location = format!(
        "location / {{
            proxy_pass {upstream};
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-outside-url $scheme://$host:$server_port;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 120s;
        }}"
    );
    let tls = format!(
        "ssl_certificate {};
        ssl_certificate_key {};",
        path_str(&pki.server_pem),
        path_str(&pki.server_key)
    );
    format!(
        "daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{tls_port} ssl http2;
        {tls}
        {location}
    }}
    server {{
        listen 127.0.0.1:{mtls_port} ssl http2;
        {tls}
        ssl_client_certificate {client_ca};
        ssl_verify_client on;
        # Client certificate, intermediate CA, root: nginx's default depth (1) stops short.
        ssl_verify_depth 3;
        {location}
    }}
    server {{
        listen 127.0.0.1:{basic_port} ssl http2;
        {tls}
        auth_basic \"devpi\";
        auth_basic_user_file {htpasswd};
        {basic_location}
    }}
}}
",
        client_ca = path_str(&pki.client_ca.pem),
        htpasswd = path_str(htpasswd),
        // proxy_set_header in a location replaces the inherited ones, so the header that
        // must not reach devpi is dropped here.
        basic_location = location.replace(
            "proxy_read_timeout 120s;",
            "proxy_read_timeout 120s;\n            proxy_set_header Authorization \"\";"
        ),
    )
}

/// The PKI of one nginx, made as tutorials make one (see [`super::pki`]): a server CA and a
/// server certificate whose only extension is an IP SAN for 127.0.0.1; a client CA (whose
/// key tests use to issue more client certificates) and a v3 client certificate with its
/// PKCS#8 key, which the test harness's own reqwest client can use.
fn make_pki(dir: &Path) -> Pki {
    let ca = Ca::root(dir, "ca", "wheelwright test server CA");
    let server = ca.issue(
        dir,
        "server",
        "127.0.0.1",
        KeyKind::RsaPkcs8,
        Extensions::V3(SERVER_IP_ONLY),
    );
    let client_ca = Ca::root(dir, "client-ca", "wheelwright test client CA");
    let client = client_ca.issue(
        dir,
        "client",
        "wheelwright test client",
        KeyKind::RsaPkcs8,
        Extensions::V3("extendedKeyUsage = clientAuth\n"),
    );
    let client_pem = concat(
        &dir.join("client-with-key.pem"),
        &[&client.cert, &client.key],
    );
    Pki {
        ca_pem: ca.pem,
        server_pem: server.cert,
        server_key: server.key,
        client_ca,
        client_pem,
        client_cert_only_pem: client.cert,
    }
}
