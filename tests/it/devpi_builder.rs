//! devpi-builder's command line, flag for flag: a Jenkins job switches by changing the
//! command name. devpi-builder's flags (its `cli.main`): positional `requirements index`,
//! `--batch`, `--user`, `--password`, `--blacklist`, `--pure-index`, `--junit-xml`,
//! `--run-id`, `--dry-run`, `--client-cert`; the upstream comes from pip's environment
//! (`PIP_INDEX_URL`) and the CA bundle from requests' (`REQUESTS_CA_BUNDLE`), as for
//! devpi-builder. The target and the pure index sit behind the real nginx with mutual TLS,
//! so `--client-cert` has an effect to check.

use crate::support::{Run, fill, nginx, user_with_upstream};

const REQUIREMENTS: &str = "\
ww-alpha==1.0
ww-bravo==1.0
ww-charlie==1.0
ww-hotel==1.0
";

/// `(project, outcome)` per job.
fn outcomes(run: &Run) -> Vec<(String, String)> {
    run.outcomes().into_iter().map(|(p, _, o)| (p, o)).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn filenames(files: Vec<(String, String)>) -> Vec<String> {
    files.into_iter().map(|(name, _)| name).collect()
}

#[test]
fn fill_takes_every_devpi_builder_flag_with_its_meaning() {
    let nginx = nginx();
    let (user, upstream) = user_with_upstream("dbflags");
    let main = nginx.mtls(&user.create_index("main", &[], false));
    let pure = nginx.mtls(&user.create_index("pure", &[], false));
    let home = tempfile::tempdir().unwrap();
    let blacklist = home.path().join("blacklist.txt");
    std::fs::write(&blacklist, "ww-bravo\n").unwrap();
    let junit = home.path().join("junit.xml");
    let ca = nginx.ca_pem.to_str().unwrap().to_string();
    let env = [
        ("PIP_INDEX_URL", upstream.as_str()),
        ("REQUESTS_CA_BUNDLE", ca.as_str()),
    ];
    let flags = |dry_run: bool, client_cert: bool| -> Vec<String> {
        let mut flags: Vec<String> = vec![
            main.clone(),
            "--batch".into(),
            "--user".into(),
            user.name.clone(),
            "--password".into(),
            user.password.clone(),
            "--blacklist".into(),
            blacklist.to_str().unwrap().into(),
            "--pure-index".into(),
            pure.clone(),
            "--junit-xml".into(),
            junit.to_str().unwrap().into(),
            "--run-id".into(),
            "linux-cp311".into(),
        ];
        if client_cert {
            flags.push("--client-cert".into());
            flags.push(nginx.client_pem.to_str().unwrap().into());
        }
        if dry_run {
            flags.push("--dry-run".into());
        }
        flags
    };
    let run = |dry_run: bool, client_cert: bool| {
        let flags = flags(dry_run, client_cert);
        let args: Vec<&str> = flags.iter().map(String::as_str).collect();
        fill(home.path(), REQUIREMENTS, &args, &env)
    };

    // --client-cert: the mutual-TLS server refuses the same run without it.
    let refused = run(true, false);
    assert_eq!(refused.code(), 3, "{}", refused.stderr());

    // --dry-run: builds what is missing, changes nothing on the server.
    let dry = run(true, true);
    assert_eq!(dry.code(), 0, "{}\n{}", dry.stdout(), dry.stderr());
    assert_eq!(
        outcomes(&dry),
        pairs(&[
            ("ww-alpha", "fetched"),
            ("ww-bravo", "excluded"),
            ("ww-charlie", "fetched"),
            ("ww-hotel", "fetched"),
        ])
    );
    assert_eq!(dry.count("builds"), 2, "charlie and hotel were built");
    for index in ["main", "pure"] {
        for project in ["ww-alpha", "ww-bravo", "ww-charlie", "ww-hotel"] {
            assert!(
                user.files(index, project, true).is_empty(),
                "--dry-run uploaded {project} to {index}"
            );
        }
    }
    // --batch: no prompt (stdin is closed; a prompt would have failed the run).
    let text = format!("{}{}", dry.stdout(), dry.stderr());
    assert!(
        !text.contains("Username") && !text.contains("Password:"),
        "{text}"
    );
    assert!(
        !text.contains(&user.password),
        "the password is never printed"
    );
    // --junit-xml with --run-id in every test name; the blacklisted job is skipped.
    let xml = std::fs::read_to_string(&junit).expect("--junit-xml written");
    assert_eq!(xml.matches("<testcase").count(), 4, "{xml}");
    assert!(
        xml.contains("ww-charlie==1.0 (") && xml.matches("[linux-cp311]").count() == 4,
        "{xml}"
    );
    assert!(xml.contains("excluded"), "{xml}");

    // The real run: --user/--password log in; --pure-index takes the pure wheels, the
    // target the platform wheel; --blacklist keeps ww-bravo out of both.
    std::fs::remove_file(&junit).unwrap();
    let real = run(false, true);
    assert_eq!(real.code(), 0, "{}\n{}", real.stdout(), real.stderr());
    assert_eq!(
        outcomes(&real),
        pairs(&[
            ("ww-alpha", "uploaded"),
            ("ww-bravo", "excluded"),
            ("ww-charlie", "built"),
            ("ww-hotel", "built"),
        ])
    );
    let pure_files: Vec<String> = ["ww-alpha", "ww-charlie", "ww-hotel"]
        .iter()
        .flat_map(|p| filenames(user.files("pure", p, true)))
        .collect();
    assert_eq!(
        pure_files,
        [
            "ww_alpha-1.0-py3-none-any.whl",
            "ww_charlie-1.0-py3-none-any.whl"
        ]
    );
    let main_files: Vec<String> = ["ww-alpha", "ww-charlie", "ww-hotel"]
        .iter()
        .flat_map(|p| filenames(user.files("main", p, true)))
        .collect();
    assert_eq!(main_files.len(), 1, "{main_files:?}");
    assert!(
        main_files[0].starts_with("ww_hotel-1.0-cp") && !main_files[0].contains("none-any"),
        "{main_files:?}"
    );
    assert!(user.files("main", "ww-bravo", true).is_empty());
    assert!(user.files("pure", "ww-bravo", true).is_empty());
    assert!(junit.exists(), "--junit-xml written again");

    // --pure-index also counts as present: the next night builds nothing.
    let again = run(false, true);
    assert_eq!(again.code(), 0, "{}", again.stderr());
    assert_eq!(again.count("present"), 3, "{:?}", outcomes(&again));
    assert_eq!(again.count("builds"), 0);
    let reasons: Vec<&str> = again.report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["reason"].as_str())
        .collect();
    assert!(
        reasons
            .iter()
            .filter(|r| **r == "on the pure index")
            .count()
            == 2,
        "{reasons:?}"
    );
}
