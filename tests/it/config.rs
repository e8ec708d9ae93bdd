//! `wheelwright.toml`: every flag can be set there; flags beat the environment, which beats
//! the file; `config show` tells where each setting came from, secrets masked.

use crate::support::{Run, fixtures_dir, project_root, run, wheelwright_with_home};

/// `wheelwright ARGS` in `home` (its working directory too), with `env` added.
fn wheelwright_in(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run(wheelwright_with_home(home)
        .current_dir(home)
        .args(args)
        .envs(env.iter().copied()))
}

/// `config show`'s text with the project root as `[project]`, the value column padded again
/// as `config show` pads it (40 wide), so the snapshot is the same in any checkout.
fn redacted(text: &str) -> String {
    let root = project_root().display().to_string();
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once(" = ").zip(line.rsplit_once(" (")) {
            Some(((key, _), (_, source))) if line.contains(&root) => {
                let value = &line[key.len() + 3..line.len() - source.len() - 2];
                let value = value.trim_end().replace(&root, "[project]");
                out.push_str(&format!("{key} = {value:<40} ({source}\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
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

    let shown = wheelwright_in(home.path(), &["config", "show"], &[]);
    let text = shown.assert_code(0).stdout();
    assert!(!text.contains("file-secret"), "secrets are masked: {text}");
    insta::assert_snapshot!("config_show_from_the_file", redacted(text));

    // A flag beats the file, and the environment beats it too.
    let shown = wheelwright_in(
        home.path(),
        &["config", "show", "--retries", "7"],
        &[("WHEELWRIGHT_TARGET", "from-env")],
    );
    insta::assert_snapshot!(
        "config_show_flag_and_environment",
        redacted(shown.assert_code(0).stdout())
    );

    // The file really drives a run: find-links, versions and the target directory.
    let filled = wheelwright_in(home.path(), &["fill", "requirements.txt"], &[]);
    let stderr = filled.assert_code(0).stderr();
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
    let planned = wheelwright_in(
        home.path(),
        &["plan", "r.txt", "--config", config.to_str().unwrap()],
        &[],
    );
    let stderr = planned.assert_code(2).stderr();
    assert!(
        stderr.contains("custom.toml") && stderr.contains("unknown setting `index-urll`"),
        "{stderr}"
    );
    std::fs::write(&config, "retries = [\n").unwrap();
    let planned = wheelwright_in(
        home.path(),
        &["plan", "r.txt", "--config", config.to_str().unwrap()],
        &[],
    );
    let stderr = planned.assert_code(2).stderr();
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
    // pip's variable beats the file; the first borrowed CA variable that is set is named;
    // pip's list variable is appended to the flags.
    let shown = wheelwright_in(
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
    let text = shown.assert_code(0).stdout();
    assert!(!text.contains("from-file"), "{text}");
    insta::assert_snapshot!("config_show_borrowed_variables", redacted(text));

    // `--help` lists the borrowed variables from the same table.
    let help = wheelwright_in(home.path(), &["fill", "--help"], &[]);
    let help = help
        .assert_code(0)
        .stdout()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
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
        let run = wheelwright_in(home.path(), &args, &[]);
        let stderr = run.stderr();
        assert_eq!(run.code(), 2, "{flags:?}: {stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(
            listener.accept().is_err(),
            "{flags:?}: a connection was made before the bad input was reported"
        );
    }
}
