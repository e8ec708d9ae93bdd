//! TLS parity with curl and pip: client certificates and keys in every form the `openssl`
//! CLI writes them (X.509 v1 from `openssl x509 -req` without extensions, PKCS#8, PKCS#1 and
//! SEC1 keys, either order, an intermediate CA, a separate key file) pass the real nginx's
//! `ssl_verify_client on`; CA bundles load as OpenSSL loads them (Debian's system bundle with
//! the private CA appended, damaged entries skipped). curl with the same files is the
//! cross-check that each file is one curl accepts. The server certificate of the shared nginx
//! has only an IP SAN (127.0.0.1), so every test here also covers that.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::pki::{Ca, Extensions, Issued, KeyKind, concat, openssl, x509_version};
use crate::support::{Nginx, Run, nginx, path_str, plan_bravo, target_with_bravo};

/// Debian's (and Ubuntu's) system bundle, from the ca-certificates package.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// `curl` through the mTLS server with these TLS arguments: the HTTP status it got.
fn curl_status(nginx: &Nginx, tls_args: &[&str]) -> String {
    let output = Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .arg("--cacert")
        .arg(&nginx.ca_pem)
        .args(tls_args)
        .arg(format!("{}/+api", nginx.mtls_url))
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl ({e}): scripts/test.sh installs it"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `plan` through the mTLS server with the CA and these client arguments.
fn plan_mtls(nginx: &Nginx, target: &str, client_args: &[&str]) -> Run {
    let mut args = vec!["--ca-bundle", path_str(&nginx.ca_pem)];
    args.extend_from_slice(client_args);
    plan_bravo(target, &args, &[])
}

fn issue(ca: &Ca, dir: &Path, name: &str, kind: KeyKind) -> Issued {
    let issued = ca.issue(dir, name, &format!("client {name}"), kind, Extensions::None);
    assert_eq!(
        x509_version(&issued.cert),
        1,
        "`openssl x509 -req` without extensions makes a v1 certificate"
    );
    issued
}

/// A client certificate file as users assemble one, and the `--client-*` arguments for it.
struct Case {
    what: &'static str,
    args: Vec<String>,
}

fn one_file(what: &'static str, dir: &Path, parts: &[&Path]) -> Case {
    let file = concat(&dir.join(format!("{}.pem", what.replace(' ', "-"))), parts);
    Case {
        what,
        args: vec!["--client-cert".into(), path_str(&file).into()],
    }
}

fn cases(nginx: &Nginx, dir: &Path) -> Vec<Case> {
    let ca = &nginx.client_ca;
    let pkcs8 = issue(ca, dir, "v1-pkcs8", KeyKind::RsaPkcs8);
    let pkcs1 = issue(ca, dir, "v1-pkcs1", KeyKind::RsaPkcs1);
    let sec1 = issue(ca, dir, "v1-sec1", KeyKind::EcSec1);
    let intermediate = ca.intermediate(dir, "intermediate", "wheelwright test intermediate CA");
    let chained = issue(&intermediate, dir, "v1-chained", KeyKind::RsaPkcs8);
    let separate = issue(ca, dir, "v1-separate", KeyKind::EcSec1);
    vec![
        one_file("v1 pkcs8 cert first", dir, &[&pkcs8.cert, &pkcs8.key]),
        one_file("v1 pkcs8 key first", dir, &[&pkcs8.key, &pkcs8.cert]),
        one_file("v1 pkcs1 cert first", dir, &[&pkcs1.cert, &pkcs1.key]),
        one_file("v1 pkcs1 key first", dir, &[&pkcs1.key, &pkcs1.cert]),
        // The key file of `openssl ecparam -genkey` starts with an EC PARAMETERS block.
        one_file("v1 sec1 cert first", dir, &[&sec1.cert, &sec1.key]),
        one_file("v1 sec1 key first", dir, &[&sec1.key, &sec1.cert]),
        one_file(
            "v1 leaf with intermediate",
            dir,
            &[&chained.cert, &intermediate.pem, &chained.key],
        ),
        Case {
            what: "separate key file",
            args: vec![
                "--client-cert".into(),
                path_str(&separate.cert).into(),
                "--client-key".into(),
                path_str(&separate.key).into(),
            ],
        },
    ]
}

#[test]
fn client_certificates_as_openssl_makes_them_pass_mtls_like_curl() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("mtlsforms");
    let target = nginx.mtls(&target);
    let dir = tempfile::tempdir().unwrap();
    for case in cases(nginx, dir.path()) {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        // curl's `--key` is wheelwright's `--client-key`; `--cert` is `--client-cert`.
        let curl_args: Vec<&str> = args
            .iter()
            .map(|a| match *a {
                "--client-cert" => "--cert",
                "--client-key" => "--key",
                other => other,
            })
            .collect();
        assert_eq!(
            curl_status(nginx, &curl_args),
            "200",
            "{}: curl accepts it",
            case.what
        );
        plan_mtls(nginx, &target, &args).assert_planned(case.what);
    }
}

#[test]
fn the_client_certificate_and_key_can_come_from_environment_and_config_file() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("mtlsenv");
    let target = nginx.mtls(&target);
    let dir = tempfile::tempdir().unwrap();
    let issued = issue(&nginx.client_ca, dir.path(), "v1-env", KeyKind::EcSec1);
    let both = concat(&dir.path().join("both.pem"), &[&issued.cert, &issued.key]);
    let ca = ["--ca-bundle", path_str(&nginx.ca_pem)];

    let env = [
        ("WHEELWRIGHT_CLIENT_CERT", path_str(&issued.cert)),
        ("WHEELWRIGHT_CLIENT_KEY", path_str(&issued.key)),
    ];
    plan_bravo(&target, &ca, &env).assert_planned("WHEELWRIGHT_CLIENT_CERT and _KEY");
    plan_bravo(&target, &ca, &[("PIP_CLIENT_CERT", path_str(&both))])
        .assert_planned("PIP_CLIENT_CERT");

    let config = dir.path().join("wheelwright.toml");
    std::fs::write(
        &config,
        format!(
            "client-cert = {:?}\nclient-key = {:?}\n",
            path_str(&issued.cert),
            path_str(&issued.key)
        ),
    )
    .unwrap();
    plan_bravo(&target, &[ca[0], ca[1], "--config", path_str(&config)], &[])
        .assert_planned("client-cert and client-key in wheelwright.toml");
}

/// Debian's bundle, asserted to be the real one with its hundreds of certificates.
fn system_bundle() -> PathBuf {
    let path = PathBuf::from(SYSTEM_BUNDLE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{SYSTEM_BUNDLE}: {e} (scripts/test.sh installs ca-certificates)")
    });
    let count = text.matches("-----BEGIN CERTIFICATE-----").count();
    assert!(
        count > 100,
        "{SYSTEM_BUNDLE} holds only {count} certificates"
    );
    path
}

#[test]
fn debians_system_bundle_with_the_private_ca_appended_is_trusted_as_by_pip() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("tlsdebian");
    let target = nginx.tls(&target);
    let dir = tempfile::tempdir().unwrap();
    // The private CA last: every one of the system's certificates is read before it.
    let bundle = concat(
        &dir.path().join("bundle.pem"),
        &[&system_bundle(), &nginx.ca_pem],
    );
    plan_bravo(&target, &["--ca-bundle", path_str(&bundle)], &[]).assert_planned("--ca-bundle");
    plan_bravo(&target, &[], &[("REQUESTS_CA_BUNDLE", path_str(&bundle))])
        .assert_planned("REQUESTS_CA_BUNDLE");

    // A damaged entry before the private CA is skipped, as OpenSSL skips what it cannot use.
    let damaged = dir.path().join("damaged.pem");
    std::fs::write(&damaged, DAMAGED_CERTIFICATE).unwrap();
    let bundle = concat(
        &dir.path().join("with-damaged.pem"),
        &[&damaged, &system_bundle(), &nginx.ca_pem],
    );
    plan_bravo(&target, &[], &[("PIP_CERT", path_str(&bundle))]).assert_planned("damaged entry");

    // Without the private CA, the system bundle alone does not trust the test server.
    let refused = plan_bravo(&target, &["--ca-bundle", SYSTEM_BUNDLE], &[]);
    assert_eq!(refused.code(), 3, "{}", refused.stderr());
    assert!(
        refused.stderr().contains("UnknownIssuer") && refused.stderr().contains("--ca-bundle"),
        "rustls' cause and what to do: {}",
        refused.stderr()
    );
}

/// A CERTIFICATE block whose body is valid base64 but not a certificate.
const DAMAGED_CERTIFICATE: &str =
    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

#[test]
fn a_bundle_of_only_unusable_certificates_is_bad_configuration_with_the_cause() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("tlsbadbundle");
    let target = nginx.tls(&target);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("damaged-bundle.pem");
    std::fs::write(
        &bundle,
        format!("{DAMAGED_CERTIFICATE}-----BEGIN CERTIFICATE-----\nno*base64\n-----END CERTIFICATE-----\n"),
    )
    .unwrap();
    let run = plan_bravo(&target, &["--ca-bundle", path_str(&bundle)], &[]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains(path_str(&bundle))
            && run.stderr().contains("none of its 2 certificates"),
        "names the file and says why: {}",
        run.stderr()
    );
    assert!(!run.stderr().contains("builder error"), "{}", run.stderr());
    plan_bravo(&target, &["--ca-bundle", path_str(&nginx.ca_pem)], &[])
        .assert_planned("good bundle");
}

/// Runs `plan` with a broken client file: exit 2, the file named, and `expected` in stderr.
fn assert_refused(nginx: &Nginx, target: &str, args: &[&str], file: &Path, expected: &str) {
    let run = plan_mtls(nginx, target, args);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains(path_str(file)),
        "the error names {}: {}",
        file.display(),
        run.stderr()
    );
    assert!(
        run.stderr().contains(expected),
        "the error says `{expected}`: {}",
        run.stderr()
    );
    assert!(!run.stderr().contains("builder error"), "{}", run.stderr());
}

#[test]
fn a_wrong_key_a_garbage_pem_and_an_encrypted_key_are_bad_configuration_with_the_cause() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("mtlsbroken");
    let target = nginx.mtls(&target);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one = issue(&nginx.client_ca, d, "one", KeyKind::RsaPkcs8);
    let other = issue(&nginx.client_ca, d, "other", KeyKind::EcSec1);

    let wrong = concat(&d.join("wrong-key.pem"), &[&one.cert, &other.key]);
    let cert = ["--client-cert", path_str(&wrong)];
    assert_refused(
        nginx,
        &target,
        &cert,
        &wrong,
        "does not belong to the certificate",
    );
    let separate = [
        "--client-cert",
        path_str(&one.cert),
        "--client-key",
        path_str(&other.key),
    ];
    assert_refused(nginx, &target, &separate, &other.key, "does not belong");

    let garbage = d.join("garbage.pem");
    std::fs::write(&garbage, "this is not PEM at all\n").unwrap();
    let cert = ["--client-cert", path_str(&garbage)];
    assert_refused(nginx, &target, &cert, &garbage, "holds no PEM certificate");

    let damaged = d.join("damaged.pem");
    std::fs::write(
        &damaged,
        "-----BEGIN CERTIFICATE-----\nMIIB*broken\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let cert = ["--client-cert", path_str(&damaged)];
    let at_line = format!("{}:1", path_str(&damaged));
    assert_refused(nginx, &target, &cert, &damaged, &at_line);
    assert_refused(nginx, &target, &cert, &damaged, "line 2 is not base64");

    let encrypted = d.join("encrypted.key");
    openssl(&[
        "pkey",
        "-in",
        path_str(&one.key),
        "-aes256",
        "-passout",
        "pass:secret",
        "-out",
        path_str(&encrypted),
    ]);
    let encrypted_args = [
        "--client-cert",
        path_str(&one.cert),
        "--client-key",
        path_str(&encrypted),
    ];
    assert_refused(nginx, &target, &encrypted_args, &encrypted, "encrypted");

    // The same certificate with its own key passes: the refusals were about the files.
    let good = [
        "--client-cert",
        path_str(&one.cert),
        "--client-key",
        path_str(&one.key),
    ];
    plan_mtls(nginx, &target, &good).assert_planned("the right key");
}
