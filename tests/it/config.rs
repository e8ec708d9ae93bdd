//! `wheelwright.toml`: every flag can be set there; flags beat the environment, which beats
//! the file; `config show` tells where each setting came from, secrets masked.

use crate::support::{fixtures_dir, wheelwright_with_home};

fn run(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = wheelwright_with_home(home);
    cmd.current_dir(home).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn settings_come_from_the_file_unless_the_environment_or_a_flag_says_otherwise() {
    let home = tempfile::tempdir().unwrap();
    let dists = fixtures_dir().join("dist");
    std::fs::write(
        home.path().join("wheelwright.toml"),
        format!(
            "find-links = [\"{}\"]\nretries = 2\nuser = \"ci\"\npassword = \"file-secret\"\n[fill]\ntarget = \"from-file\"\nversions = \"all\"\n",
            dists.display()
        ),
    )
    .unwrap();
    std::fs::write(home.path().join("requirements.txt"), "ww-alpha>=1.0\n").unwrap();

    let (code, shown, stderr) = run(home.path(), &["config", "show"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(shown.contains("retries                = 2"), "{shown}");
    assert!(shown.contains("(file)"));
    assert!(
        !shown.contains("file-secret"),
        "secrets are masked: {shown}"
    );
    assert!(shown.contains("password               = ********"));

    let (_, shown, _) = run(
        home.path(),
        &["config", "show", "--retries", "7"],
        &[("WHEELWRIGHT_TARGET", "from-env")],
    );
    assert!(
        shown.contains("retries                = 7") && shown.contains("(flag)"),
        "{shown}"
    );
    assert!(
        shown.contains("target                 = from-env"),
        "the environment beats the file: {shown}"
    );

    // The file really drives a run: find-links, versions and the target directory.
    let (code, _, stderr) = run(home.path(), &["fill", "requirements.txt"], &[]);
    assert_eq!(code, 0, "{stderr}");
    for wheel in [
        "ww_alpha-1.0-py3-none-any.whl",
        "ww_alpha-2.0-py3-none-any.whl",
    ] {
        assert!(
            home.path().join("from-file").join(wheel).is_file(),
            "{wheel}: {stderr}"
        );
    }
}

#[test]
fn an_unknown_setting_is_an_error_naming_the_file() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("custom.toml");
    std::fs::write(&config, "index-urll = \"http://x\"\n").unwrap();
    std::fs::write(home.path().join("r.txt"), "ww-alpha==1.0\n").unwrap();
    let (code, _, stderr) = run(
        home.path(),
        &["plan", "r.txt", "--config", config.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("custom.toml") && stderr.contains("unknown setting `index-urll`"),
        "{stderr}"
    );
    std::fs::write(&config, "retries = [\n").unwrap();
    let (code, _, stderr) = run(
        home.path(),
        &["plan", "r.txt", "--config", config.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("custom.toml"), "{stderr}");
}

#[test]
fn borrowed_variables_beat_the_file_and_config_show_names_them() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("wheelwright.toml"),
        "index-url = \"http://from-file.invalid/simple/\"\nextra-index-url = [\"http://file-extra.invalid/simple/\"]\n",
    )
    .unwrap();
    let env = [
        ("PIP_INDEX_URL", "http://from-pip.invalid/simple/"),
        ("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem"),
        (
            "PIP_EXTRA_INDEX_URL",
            "http://a.invalid/simple/ http://b.invalid/simple/",
        ),
    ];
    let (code, shown, stderr) = run(
        home.path(),
        &[
            "config",
            "show",
            "plan",
            "--extra-index-url",
            "http://flag.invalid/simple/",
        ],
        &env,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        shown.contains("index-url              = http://from-pip.invalid/simple/")
            && shown.contains("(environment PIP_INDEX_URL)"),
        "pip's variable beats the file: {shown}"
    );
    assert!(
        shown.contains("(environment REQUESTS_CA_BUNDLE)"),
        "the first borrowed CA variable that is set: {shown}"
    );
    assert!(
        shown.contains(
            "http://flag.invalid/simple/, http://a.invalid/simple/, http://b.invalid/simple/"
        ) && shown.contains("(flag + environment PIP_EXTRA_INDEX_URL)"),
        "pip appends its list variable to the flags: {shown}"
    );
    assert!(!shown.contains("from-file"), "{shown}");

    // `--help` lists the borrowed variables from the same table.
    let (code, help, _) = run(home.path(), &["fill", "--help"], &[]);
    assert_eq!(code, 0);
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("[also read: PIP_CERT, REQUESTS_CA_BUNDLE, SSL_CERT_FILE]"),
        "{help}"
    );
    assert!(help.contains("[env: WHEELWRIGHT_USER"), "{help}");
}

/// Local inputs are checked before any index is asked (`setup::Settings`): a malformed
/// `--build-env`, an unpinned `--build-constraints` line or a missing `--build-path` is bad
/// input (exit 2) even when no build would be needed, and no connection is made.
#[test]
fn build_options_are_checked_before_any_index_is_contacted() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/simple/", listener.local_addr().unwrap());
    let home = tempfile::tempdir().unwrap();
    let requirements = home.path().join("requirements.txt");
    std::fs::write(&requirements, "demo==1.0\n").unwrap();
    let constraints = home.path().join("constraints.txt");
    std::fs::write(&constraints, "setuptools>=60\n").unwrap();
    let missing = home.path().join("no-such-toolchain");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--build-env", "NO_EQUALS"],
            "--build-env `NO_EQUALS`: expected KEY=VALUE",
        ),
        (
            &["--build-constraints", constraints.to_str().unwrap()],
            "build constraints must pin one version with `==`, got `setuptools>=60`",
        ),
        (
            &["--build-path", missing.to_str().unwrap()],
            "no-such-toolchain",
        ),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["fill", requirements.to_str().unwrap(), "--target", &url];
        args.extend(["--index-url", &url]);
        args.extend(flags);
        let (code, _, stderr) = run(home.path(), &args, &[]);
        assert_eq!(code, 2, "{flags:?}: {stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(
            listener.accept().is_err(),
            "{flags:?}: a connection was made before the bad input was reported"
        );
    }
}
