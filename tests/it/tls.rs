//! TLS and client certificates against a real nginx in front of the real devpi-server
//! (`support::nginx`): unknown CAs are refused, `--ca-bundle` and pip's environment variables
//! add a CA, `--client-cert` passes an `ssl_verify_client on` server, and the same trust
//! settings apply to upstream indexes. Every refusal is checked next to the same request
//! succeeding with the right settings, so a server that is not running fails the test.

use crate::support::{
    Nginx, authority, devpi, fill, fixture_dist, nginx, path_str, plan_bravo, sha256_of,
    target_with_bravo, user_with_upstream,
};

#[test]
fn a_server_certificate_from_an_unknown_ca_is_refused_and_trusted_with_ca_bundle() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("tlsca");
    let target = nginx.tls(&target);

    let refused = plan_bravo(&target, &[], &[]);
    assert_eq!(
        refused.code(),
        3,
        "unknown CA must exit 3: {}",
        refused.stderr()
    );
    assert!(
        refused.stderr().contains(authority(&nginx.tls_url)),
        "the error names the URL: {}",
        refused.stderr()
    );
    assert!(
        refused.stderr().to_lowercase().contains("certificate"),
        "the error says the certificate was the problem: {}",
        refused.stderr()
    );

    let trusted = plan_bravo(&target, &["--ca-bundle", path_str(&nginx.ca_pem)], &[]);
    trusted.assert_planned("--ca-bundle");
}

#[test]
fn the_ca_bundle_can_come_from_pip_cert_requests_ca_bundle_or_ssl_cert_file() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("tlsenv");
    let target = nginx.tls(&target);
    // Note: rustls-native-certs reads SSL_CERT_FILE itself, as OpenSSL does, so that one
    // works even without wheelwright's fallback; PIP_CERT and REQUESTS_CA_BUNDLE do not.
    for variable in ["PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"] {
        plan_bravo(&target, &[], &[(variable, path_str(&nginx.ca_pem))]).assert_planned(variable);
    }
}

#[test]
fn the_mtls_server_refuses_a_client_without_certificate_and_accepts_client_cert() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("mtlsplan");
    let target = nginx.mtls(&target);
    let ca = ["--ca-bundle", path_str(&nginx.ca_pem)];

    let refused = plan_bravo(&target, &ca, &[]);
    assert_eq!(
        refused.code(),
        3,
        "no client certificate must exit 3: {}",
        refused.stderr()
    );
    assert!(
        refused.stderr().contains(authority(&nginx.mtls_url)),
        "the error names the URL: {}",
        refused.stderr()
    );
    assert!(
        refused.stderr().to_lowercase().contains("certificate"),
        "the error says a client certificate is missing: {}",
        refused.stderr()
    );

    let accepted = plan_bravo(
        &target,
        &[ca[0], ca[1], "--client-cert", path_str(&nginx.client_pem)],
        &[],
    );
    accepted.assert_planned("--client-cert");
}

#[test]
fn fill_through_mtls_uploads_and_devpi_lists_the_right_sha256() {
    let nginx = nginx();
    let (user, upstream) = user_with_upstream("mtlsfill");
    let target = nginx.mtls(&user.create_index("target", &[], false));
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let args = [
        "--index-url",
        upstream.as_str(),
        target.as_str(),
        "--ca-bundle",
        path_str(&nginx.ca_pem),
        "--client-cert",
        path_str(&nginx.client_pem),
    ];
    // ww-big (1 MiB) is larger than nginx's default client_max_body_size: the upload body
    // really goes through the proxy.
    let reqs = "ww-alpha==1.0\nww-big==1.0\n";
    let first = fill(home.path(), reqs, &args, &creds);
    assert_eq!(first.code(), 0, "{}\n{}", first.stdout(), first.stderr());
    assert_eq!(first.count("uploaded"), 2, "{:?}", first.outcomes());
    for (project, filename) in [
        ("ww-alpha", "ww_alpha-1.0-py3-none-any.whl"),
        ("ww-big", "ww_big-1.0-py3-none-any.whl"),
    ] {
        assert_eq!(
            user.files("target", project, true),
            [(filename.to_string(), sha256_of(&fixture_dist(filename)))],
            "{project} on devpi"
        );
    }

    let second = fill(home.path(), reqs, &args, &creds);
    assert_eq!(second.code(), 0, "{}", second.stderr());
    assert_eq!(second.count("present"), 2, "{:?}", second.outcomes());
    assert!(!first.stderr().contains(&user.password) && !second.stderr().contains(&user.password));
    devpi().assert_no_tracebacks();
}

#[test]
fn a_client_cert_file_without_key_is_bad_configuration_naming_the_file() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("mtlsnokey");
    let target = nginx.mtls(&target);
    let ca = path_str(&nginx.ca_pem);

    let no_key = plan_bravo(
        &target,
        &[
            "--ca-bundle",
            ca,
            "--client-cert",
            path_str(&nginx.client_cert_only_pem),
        ],
        &[],
    );
    assert_eq!(no_key.code(), 2, "{}", no_key.stderr());
    assert!(
        no_key
            .stderr()
            .contains(path_str(&nginx.client_cert_only_pem)),
        "the error names the file: {}",
        no_key.stderr()
    );

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-client.pem");
    let missing_run = plan_bravo(
        &target,
        &["--ca-bundle", ca, "--client-cert", path_str(&missing)],
        &[],
    );
    assert_eq!(missing_run.code(), 2, "{}", missing_run.stderr());
    assert!(
        missing_run.stderr().contains(path_str(&missing)),
        "the error names the file: {}",
        missing_run.stderr()
    );

    // The same setup with the complete file works.
    plan_bravo(
        &target,
        &[
            "--ca-bundle",
            ca,
            "--client-cert",
            path_str(&nginx.client_pem),
        ],
        &[],
    )
    .assert_planned("complete client PEM");
}

#[test]
fn a_ca_bundle_without_certificates_is_bad_configuration_naming_the_file() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("tlsbadca");
    let target = nginx.tls(&target);
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not-a-bundle.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    // Not silently ignored: the user meant to trust something, and would otherwise get an
    // "unknown issuer" error about the server instead of one about their file.
    let run = plan_bravo(&target, &["--ca-bundle", path_str(&not_pem)], &[]);
    assert_eq!(
        run.code(),
        2,
        "a CA bundle with no certificate: {}",
        run.stderr()
    );
    assert!(
        run.stderr().contains(path_str(&not_pem)),
        "the error names the file: {}",
        run.stderr()
    );
}

#[test]
fn a_missing_ca_bundle_is_bad_configuration_naming_the_file() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("tlsnoca");
    let target = nginx.tls(&target);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-bundle.pem");
    let run = plan_bravo(&target, &["--ca-bundle", path_str(&missing)], &[]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains(path_str(&missing)),
        "the error names the file: {}",
        run.stderr()
    );
    plan_bravo(&target, &["--ca-bundle", path_str(&nginx.ca_pem)], &[])
        .assert_planned("an existing bundle");
}

#[test]
fn a_certificate_error_is_not_retried() {
    // Its own nginx, so that its error log holds only this test's handshakes.
    let nginx = Nginx::private();
    let (_user, target) = target_with_bravo("tlsnoretry");
    let target = nginx.tls(&target);
    // The default --retries (5): an unknown issuer will not go away by asking again.
    let refused = plan_bravo(&target, &[], &[]);
    assert_eq!(refused.code(), 3, "{}", refused.stderr());
    nginx.log_barrier();
    let handshakes = nginx
        .error_log_text()
        .lines()
        .filter(|line| line.contains("alert unknown ca"))
        .count();
    assert_eq!(
        handshakes,
        1,
        "wheelwright must give up after the first certificate error; nginx saw {handshakes} \
         refused handshakes:\n{}",
        nginx.error_log_tail()
    );
}

#[test]
fn an_upstream_behind_tls_needs_the_ca_and_then_fills_a_directory() {
    let nginx = nginx();
    let (_user, upstream) = user_with_upstream("tlsupstream");
    let upstream = nginx.tls(&upstream);
    let home = tempfile::tempdir().unwrap();
    let wheelhouse = home.path().join("wheelhouse");
    let base = ["--index-url", upstream.as_str(), path_str(&wheelhouse)];

    let refused = fill(home.path(), "ww-alpha==1.0\n", &base, &[]);
    assert_eq!(
        refused.code(),
        3,
        "an upstream with an unknown CA must exit 3: {}",
        refused.stderr()
    );
    assert!(
        refused.stderr().contains(authority(&nginx.tls_url)),
        "the error names the upstream URL: {}",
        refused.stderr()
    );

    let mut args = base.to_vec();
    args.extend(["--ca-bundle", path_str(&nginx.ca_pem)]);
    let run = fill(home.path(), "ww-alpha==1.0\n", &args, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.count("uploaded"), 1, "{:?}", run.outcomes());
    let filename = "ww_alpha-1.0-py3-none-any.whl";
    assert_eq!(
        sha256_of(&wheelhouse.join(filename)),
        sha256_of(&fixture_dist(filename))
    );
}

#[test]
fn fill_with_upstream_behind_mtls_and_target_behind_tls_uses_one_trust_setting() {
    let nginx = nginx();
    let (user, upstream) = user_with_upstream("tlsboth");
    let upstream = nginx.mtls(&upstream);
    let target = nginx.tls(&user.create_index("target", &[], false));
    let home = tempfile::tempdir().unwrap();
    let creds = user.env();
    let args = [
        "--index-url",
        upstream.as_str(),
        target.as_str(),
        "--ca-bundle",
        path_str(&nginx.ca_pem),
        "--client-cert",
        path_str(&nginx.client_pem),
    ];
    let run = fill(home.path(), "ww-alpha==2.0\n", &args, &creds);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout(), run.stderr());
    assert_eq!(run.count("uploaded"), 1, "{:?}", run.outcomes());
    let filename = "ww_alpha-2.0-py3-none-any.whl";
    assert_eq!(
        user.files("target", "ww-alpha", true),
        [(filename.to_string(), sha256_of(&fixture_dist(filename)))]
    );
}

#[test]
fn basic_auth_of_a_reverse_proxy_is_separate_from_the_devpi_login() {
    use crate::support::{PROXY_PASSWORD, PROXY_USER};
    let nginx = nginx();
    let (user, upstream) = user_with_upstream("proxybasic");
    user.create_index("target", &[], false);
    let home = tempfile::tempdir().unwrap();
    let password_file = home.path().join("devpi-password");
    std::fs::write(&password_file, format!("{}\n", user.password)).unwrap();
    let target = nginx.basic(
        &user.index_url("target"),
        Some((PROXY_USER, PROXY_PASSWORD)),
    );
    let args = [
        "--index-url",
        upstream.as_str(),
        target.as_str(),
        "--ca-bundle",
        path_str(&nginx.ca_pem),
        "--user",
        user.name.as_str(),
        "--password-file",
        path_str(&password_file),
    ];
    let run = fill(home.path(), "ww-alpha==1.0\n", &args, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.count("uploaded"), 1);
    assert_eq!(user.files("target", "ww-alpha", true).len(), 1);
    for secret in [PROXY_PASSWORD, user.password.as_str()] {
        assert!(!run.stderr().contains(secret) && !run.report.to_string().contains(secret));
    }
    // Without the proxy's credentials nginx refuses, whatever the devpi login: exit 3.
    let bare = nginx.basic(&user.index_url("target"), None);
    let refused = fill(
        home.path(),
        "ww-alpha==2.0\n",
        &[
            "--index-url",
            &upstream,
            &bare,
            "--ca-bundle",
            path_str(&nginx.ca_pem),
        ],
        &user.env(),
    );
    assert_eq!(refused.code(), 3, "{}", refused.stderr());
    assert!(refused.stderr().contains("401"), "{}", refused.stderr());
}

#[test]
fn https_proxy_from_the_environment_is_used_unless_no_proxy_names_the_host() {
    let nginx = nginx();
    let (_user, target) = target_with_bravo("fwdproxy");
    let target = nginx.tls(&target);
    let ca = ["--ca-bundle", path_str(&nginx.ca_pem)];
    let proxy = crate::support::ForwardProxy::start();
    let proxy_url = proxy.url();
    let via_proxy = ("HTTPS_PROXY", proxy_url.as_str());

    plan_bravo(&target, &ca, &[via_proxy]).assert_planned("HTTPS_PROXY");
    assert!(
        proxy
            .tunnels()
            .iter()
            .any(|t| t == authority(&nginx.tls_url)),
        "the target was reached through the proxy: {:?}",
        proxy.tunnels()
    );

    // NO_PROXY names the host: the proxy sees nothing more.
    let before = proxy.tunnels().len();
    plan_bravo(&target, &ca, &[via_proxy, ("NO_PROXY", "127.0.0.1")]).assert_planned("NO_PROXY");
    assert_eq!(
        proxy.tunnels().len(),
        before,
        "NO_PROXY bypasses the proxy: {:?}",
        proxy.tunnels()
    );
}
