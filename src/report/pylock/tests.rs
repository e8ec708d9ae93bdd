use std::path::Path;

use super::*;
use crate::report::lock::LockHash;
use crate::report::lock::tests::{interpreter, job, sha};

fn file(name: &str, location: Location, time: Option<&str>) -> LockedFile {
    LockedFile {
        filename: SafeFilename::new(name).unwrap(),
        location,
        size: Some(1234),
        upload_time: time.map(|t| t.parse().unwrap()),
    }
}

fn parsed(lock: &Lock) -> toml::Table {
    lock.text
        .parse()
        .unwrap_or_else(|e| panic!("{e}\n{}", lock.text))
}

#[test]
fn packages_name_their_wheels_with_url_size_upload_time_and_hash() {
    let interpreters = [interpreter("cp38", 8), interpreter("cp311", 11)];
    let jobs = [
        job("WW_Alpha", "2.0", "cp38", LockHash::Known(sha("aa"))),
        job("WW_Alpha", "2.0", "cp311", LockHash::Known(sha("aa"))),
        job("ww-rp-only", "1.0", "cp38", LockHash::Known(sha("bb"))),
        job("ww-rp-only", "2.0", "cp311", LockHash::Known(sha("cc"))),
    ];
    let origin = Origin {
        index: Some("http://h:3141/u/i/+simple/".into()),
        files: [
            (
                sha("aa"),
                file(
                    "ww_alpha-2.0-py3-none-any.whl",
                    Location::Url("http://h:3141/u/i/+f/aaa/ww_alpha-2.0-py3-none-any.whl".into()),
                    Some("2026-12-05T10:11:12.5Z"),
                ),
            ),
            (
                sha("bb"),
                file(
                    "ww_rp_only-1.0-py3-none-any.whl",
                    Location::Url("http://h/b".into()),
                    None,
                ),
            ),
            (
                sha("cc"),
                file(
                    "ww_rp_only-2.0-py3-none-any.whl",
                    Location::Url("http://h/c".into()),
                    None,
                ),
            ),
        ]
        .into(),
    };
    let lock = render(&interpreters, &jobs, &origin).unwrap();
    assert!(lock.missing.is_empty(), "{:?}", lock.missing);
    let toml = parsed(&lock);
    assert_eq!(toml["lock-version"].as_str(), Some("1.0"));
    assert_eq!(toml["created-by"].as_str(), Some("wheelwright"));
    assert_eq!(toml["requires-python"].as_str(), Some(">=3.8"));
    let environments: Vec<&str> = toml["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(
        environments,
        [
            "python_version == \"3.11\" and implementation_name == \"cpython\" and sys_platform == \"linux\" and platform_machine == \"x86_64\"",
            "python_version == \"3.8\" and implementation_name == \"cpython\" and sys_platform == \"linux\" and platform_machine == \"x86_64\"",
        ]
    );
    let packages = toml["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 3);
    let alpha = packages[0].as_table().unwrap();
    assert_eq!(alpha["name"].as_str(), Some("ww-alpha"));
    assert_eq!(alpha["version"].as_str(), Some("2.0"));
    assert!(alpha.get("marker").is_none(), "serves every interpreter");
    assert_eq!(alpha["index"].as_str(), Some("http://h:3141/u/i/+simple/"));
    let wheel = alpha["wheels"][0].as_table().unwrap();
    assert_eq!(
        wheel["name"].as_str(),
        Some("ww_alpha-2.0-py3-none-any.whl")
    );
    assert_eq!(
        wheel["url"].as_str(),
        Some("http://h:3141/u/i/+f/aaa/ww_alpha-2.0-py3-none-any.whl")
    );
    assert_eq!(wheel["size"].as_integer(), Some(1234));
    assert_eq!(
        wheel["hashes"]["sha256"].as_str(),
        Some("aa".repeat(32).as_str())
    );
    let time = wheel["upload-time"].as_datetime().expect("a TOML datetime");
    assert_eq!(
        time.to_string().parse::<Timestamp>().unwrap(),
        "2026-12-05T10:11:12.5Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        packages[1]["marker"].as_str(),
        Some("python_version == \"3.8\"")
    );
    assert_eq!(
        packages[2]["marker"].as_str(),
        Some("python_version == \"3.11\"")
    );
    assert!(packages[1]["wheels"][0].get("upload-time").is_none());
}

#[test]
fn a_file_the_target_does_not_list_is_missing_and_a_directory_names_paths() {
    let interpreters = [interpreter("cp311", 11)];
    let jobs = [
        job("ww-alpha", "1.0", "cp311", LockHash::Known(sha("aa"))),
        job("ww-bravo", "1.0", "cp311", LockHash::Known(sha("bb"))),
        job("ww-charlie", "1.0", "cp311", LockHash::AfterFill),
    ];
    let origin = Origin {
        index: None,
        files: [(
            sha("aa"),
            file(
                "ww_alpha-1.0-py3-none-any.whl",
                Location::Path("../wheelhouse/ww_alpha-1.0-py3-none-any.whl".into()),
                None,
            ),
        )]
        .into(),
    };
    let lock = render(&interpreters, &jobs, &origin).unwrap();
    let toml = parsed(&lock);
    let packages = toml["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 1, "{}", lock.text);
    assert!(packages[0].get("index").is_none());
    assert_eq!(
        packages[0]["wheels"][0]["path"].as_str(),
        Some("../wheelhouse/ww_alpha-1.0-py3-none-any.whl")
    );
    assert_eq!(lock.missing.len(), 1);
    assert!(
        lock.missing[0].starts_with("ww-bravo==1.0: the target lists no file with sha256 bbbb"),
        "{:?}",
        lock.missing
    );
    assert_eq!(lock.after_fill, ["ww-charlie==1.0 (cp311)"]);
}

#[test]
fn outside_text_is_escaped_as_toml_strings() {
    let interpreters = [interpreter("cp311", 11)];
    let jobs = [job("ww-alpha", "1.0", "cp311", LockHash::Known(sha("aa")))];
    let origin = Origin {
        index: Some("http://h/simple/\"\n[evil]".into()),
        files: [(
            sha("aa"),
            file(
                "ww_alpha-1.0-py3-none-any.whl",
                Location::Url("http://h/a b\"\\".into()),
                None,
            ),
        )]
        .into(),
    };
    let toml = parsed(&render(&interpreters, &jobs, &origin).unwrap());
    assert!(toml.get("evil").is_none());
    assert_eq!(
        toml["packages"][0]["index"].as_str(),
        Some("http://h/simple/\"\n[evil]")
    );
    assert_eq!(
        toml["packages"][0]["wheels"][0]["url"].as_str(),
        Some("http://h/a b\"\\")
    );
}

#[test]
fn pylock_names_are_those_pep_751_gives() {
    for name in ["pylock.toml", "pylock.dev.toml", "pylock.cp311-linux.toml"] {
        assert!(is_pylock_name(name), "{name}");
    }
    for name in [
        "lock.txt",
        "pylock..toml",
        "pylock.a.b.toml",
        "Pylock.toml",
        "pylock.toml.txt",
        "my-pylock.toml",
    ] {
        assert!(!is_pylock_name(name), "{name}");
    }
}

#[test]
fn paths_are_relative_to_the_lock_files_directory() {
    let rel = |from: &str, to: &str| relative_path(Path::new(from), Path::new(to));
    assert_eq!(
        rel("/srv/locks", "/srv/wheelhouse/a.whl"),
        "../wheelhouse/a.whl"
    );
    assert_eq!(rel("/srv", "/srv/wheelhouse/a.whl"), "wheelhouse/a.whl");
    assert_eq!(rel("/srv/a/b", "/x.whl"), "../../../x.whl");
}

#[test]
fn a_lock_of_nothing_still_has_its_packages_key() {
    let lock = render(&[interpreter("cp311", 11)], &[], &Origin::default()).unwrap();
    let toml = parsed(&lock);
    assert_eq!(toml["packages"].as_array().map(Vec::len), Some(0));
}
