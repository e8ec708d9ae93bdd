use super::*;
use std::str::FromStr;

pub(crate) fn interpreter(label: &str, minor: u8) -> LockInterpreter {
    LockInterpreter {
        label: label.into(),
        python_version: (3, minor),
        implementation_name: "cpython".into(),
        sys_platform: "linux".into(),
        platform_machine: "x86_64".into(),
    }
}

pub(crate) fn sha(byte: &str) -> Sha256 {
    Sha256::new(&byte.repeat(32)).unwrap()
}

pub(crate) fn job(project: &str, version: &str, interpreter: &str, hash: LockHash) -> LockJob {
    LockJob {
        project: project.parse().unwrap(),
        version: version.parse().unwrap(),
        interpreter: interpreter.into(),
        hash,
    }
}

fn header() -> LockHeader {
    LockHeader {
        command: "fill",
        target: "http://h/u/i".into(),
    }
}

/// The lock without its header comment.
fn body(lock: &Lock) -> String {
    lock.text
        .lines()
        .skip_while(|l| {
            l.starts_with("# Written") || l.starts_with("# The") || l.starts_with("# Install")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn one_line_per_project_version_with_every_interpreters_hash_in_name_order() {
    let interpreters = [interpreter("cp38", 8), interpreter("cp311", 11)];
    let jobs = [
        job("ww-b", "1.0", "cp311", LockHash::Known(sha("bb"))),
        job("ww-a", "2.0", "cp38", LockHash::Known(sha("a8"))),
        job("ww-a", "2.0", "cp311", LockHash::Known(sha("a1"))),
        job("ww-b", "1.0", "cp38", LockHash::Known(sha("bb"))),
    ];
    let lock = render(&header(), &interpreters, &jobs).unwrap();
    assert_eq!(
        body(&lock),
        format!(
            "ww-a==2.0 \\\n    --hash=sha256:{} \\\n    --hash=sha256:{}\n\
             ww-b==1.0 \\\n    --hash=sha256:{}\n",
            "a1".repeat(32),
            "a8".repeat(32),
            "bb".repeat(32)
        )
    );
    assert!(lock.missing.is_empty() && lock.after_fill.is_empty());
}

#[test]
fn interpreters_given_different_versions_are_split_by_python_version() {
    let interpreters = [interpreter("cp38", 8), interpreter("cp311", 11)];
    let jobs = [
        job("ww-rp", "2.0", "cp311", LockHash::Known(sha("22"))),
        job("ww-rp", "1.0", "cp38", LockHash::Known(sha("11"))),
        // Its marker is false for cp38: the line must not apply there.
        job("ww-only311", "1.0", "cp311", LockHash::Known(sha("33"))),
    ];
    let lock = render(&header(), &interpreters, &jobs).unwrap();
    assert_eq!(
        body(&lock),
        format!(
            "ww-only311==1.0 ; python_version == \"3.11\" \\\n    --hash=sha256:{}\n\
             ww-rp==1.0 ; python_version == \"3.8\" \\\n    --hash=sha256:{}\n\
             ww-rp==2.0 ; python_version == \"3.11\" \\\n    --hash=sha256:{}\n",
            "33".repeat(32),
            "11".repeat(32),
            "22".repeat(32)
        )
    );
    // Every marker parses as PEP 508 and is true exactly where it should be.
    for line in lock.text.lines().filter(|l| l.contains(" ; ")) {
        let requirement = line.trim_end_matches(" \\");
        pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(requirement)
            .unwrap_or_else(|e| panic!("{requirement}: {e}"));
    }
}

#[test]
fn interpreters_of_one_python_version_are_told_apart_by_their_other_markers() {
    let mut arm = interpreter("cp311", 11);
    arm.platform_machine = "aarch64".into();
    let interpreters = [interpreter("cp311", 11), arm];
    let jobs = [job("ww-a", "1.0", "cp311", LockHash::Known(sha("aa")))];
    // Both are labelled cp311; the job names the first label, which both share, so the line
    // serves both: no marker.
    let lock = render(&header(), &interpreters, &jobs).unwrap();
    assert!(body(&lock).starts_with("ww-a==1.0 \\\n"), "{}", lock.text);

    let mut x86 = interpreter("cp311-x86", 11);
    x86.platform_machine = "x86_64".into();
    let mut arm = interpreter("cp311-arm", 11);
    arm.platform_machine = "aarch64".into();
    let jobs = [job("ww-a", "1.0", "cp311-arm", LockHash::Known(sha("aa")))];
    let lock = render(&header(), &[x86, arm], &jobs).unwrap();
    assert!(
        lock.text.contains(
            "ww-a==1.0 ; (python_version == \"3.11\" and implementation_name == \"cpython\" \
             and sys_platform == \"linux\" and platform_machine == \"aarch64\")"
        ),
        "{}",
        lock.text
    );
}

#[test]
fn interpreters_no_marker_tells_apart_are_an_error() {
    let interpreters = [interpreter("cp313", 13), interpreter("cp313t", 13)];
    let jobs = [job("ww-a", "1.0", "cp313", LockHash::Known(sha("aa")))];
    assert!(matches!(
        render(&header(), &interpreters, &jobs),
        Err(HashLockError::Indistinguishable { .. })
    ));
}

#[test]
fn several_versions_for_one_interpreter_are_an_error_naming_them() {
    let interpreters = [interpreter("cp311", 11)];
    let jobs = [
        job("ww-a", "2.0", "cp311", LockHash::Known(sha("aa"))),
        job("ww-a", "1.0", "cp311", LockHash::Known(sha("bb"))),
    ];
    let error = render(&header(), &interpreters, &jobs).unwrap_err();
    assert_eq!(
        error.to_string(),
        "ww-a has versions 1.0 and 2.0 for cp311: a lock holds one version per project and \
         interpreter (lock each list of versions on its own)"
    );
}

#[test]
fn build_jobs_get_a_comment_and_missing_jobs_no_hash() {
    let interpreters = [interpreter("cp38", 8), interpreter("cp311", 11)];
    let jobs = [
        job("ww-built", "1.0", "cp311", LockHash::AfterFill),
        job("ww-built", "1.0", "cp38", LockHash::Known(sha("88"))),
        job(
            "ww-gone",
            "1.0",
            "cp311",
            LockHash::Missing("failed: boom".into()),
        ),
        job(
            "ww-gone",
            "1.0",
            "cp38",
            LockHash::Missing("failed: boom".into()),
        ),
    ];
    let lock = render(&header(), &interpreters, &jobs).unwrap();
    assert_eq!(
        body(&lock),
        format!(
            "# ww-built==1.0 (cp311): build job, hash known after fill\n\
             ww-built==1.0 \\\n    --hash=sha256:{}\n",
            "88".repeat(32)
        )
    );
    assert_eq!(lock.after_fill, ["ww-built==1.0 (cp311)"]);
    assert_eq!(
        lock.missing,
        [
            "ww-gone==1.0 (cp311): failed: boom",
            "ww-gone==1.0 (cp38): failed: boom"
        ]
    );
}

#[test]
fn the_header_says_what_made_it_and_outside_text_cannot_start_a_line() {
    let interpreters = [interpreter("cp311", 11)];
    let header = LockHeader {
        command: "plan",
        target: "http://h/u/i\nevil==1.0".into(),
    };
    let jobs = [job(
        "ww-a",
        "1.0",
        "cp311",
        LockHash::Missing("line\nbreak".into()),
    )];
    let lock = render(&header, &interpreters, &jobs).unwrap();
    assert!(lock.text.starts_with(&format!(
        "# Written by wheelwright {} `plan --lock` for the target http://h/u/i?evil==1.0.\n\
         # The files the target serves, for the interpreters cp311 (python_version 3.11).\n",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(
        lock.text.lines().all(|l| l.starts_with('#')),
        "{}",
        lock.text
    );
    assert_eq!(lock.missing, ["ww-a==1.0 (cp311): line?break"]);
}

#[test]
fn a_marker_value_is_quoted_with_the_quote_it_lacks() {
    assert_eq!(quote("k", "a\"b").unwrap(), "'a\"b'");
    assert_eq!(quote("k", "ab").unwrap(), "\"ab\"");
    assert!(matches!(
        quote("k", "a\"'b"),
        Err(HashLockError::Unquotable { .. })
    ));
}

/// The interpreters a proptest run draws from: no two share every marker value.
fn pool() -> Vec<(LockInterpreter, pep508_rs::MarkerEnvironment)> {
    [
        ("cp38", 8, "linux", "x86_64"),
        ("cp311", 11, "linux", "x86_64"),
        ("cp311-arm", 11, "linux", "aarch64"),
        ("cp312", 12, "darwin", "arm64"),
    ]
    .into_iter()
    .map(|(label, minor, platform, machine)| {
        let python_version = format!("3.{minor}");
        let full = format!("3.{minor}.4");
        let env = pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &full,
            os_name: "posix",
            platform_machine: machine,
            platform_python_implementation: "CPython",
            platform_release: "6.1.0",
            platform_system: "Linux",
            platform_version: "#1 SMP",
            python_full_version: &full,
            python_version: &python_version,
            sys_platform: platform,
        })
        .unwrap();
        let interpreter = LockInterpreter {
            label: label.into(),
            python_version: (3, minor),
            implementation_name: "cpython".into(),
            sys_platform: platform.into(),
            platform_machine: machine.into(),
        };
        (interpreter, env)
    })
    .collect()
}

/// Each requirement line of a lock, its `--hash` options dropped.
fn requirement_lines(text: &str) -> Vec<pep508_rs::Requirement> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(' '))
        .map(|l| pep508_rs::Requirement::from_str(l.trim_end_matches(" \\")).unwrap())
        .collect()
}

proptest::proptest! {
    #![proptest_config(crate::proptest_config())]

    /// On every interpreter, the lines whose marker is true are exactly the project versions
    /// locked for it: pip on each installs its own set and nothing of another's.
    #[test]
    fn each_interpreter_selects_exactly_its_own_lines(
        chosen in proptest::collection::vec(proptest::bool::ANY, 4),
        versions in proptest::collection::vec(proptest::option::of(1u8..=3), 16),
    ) {
        let pool: Vec<_> = pool().into_iter().zip(chosen).filter(|(_, c)| *c).map(|(p, _)| p).collect();
        proptest::prop_assume!(!pool.is_empty());
        let interpreters: Vec<LockInterpreter> = pool.iter().map(|(i, _)| i.clone()).collect();
        let mut jobs = Vec::new();
        for (n, version) in versions.iter().enumerate() {
            let (project, interpreter) = (n / 4, n % 4);
            if let (Some(version), Some(target)) = (version, interpreters.get(interpreter)) {
                jobs.push(job(&format!("ww-p{project}"), &format!("{version}.0"), &target.label,
                    LockHash::Known(sha(&format!("{project}{version}")))));
            }
        }
        let lock = render(&header(), &interpreters, &jobs).unwrap();
        let lines = requirement_lines(&lock.text);
        for (interpreter, env) in &pool {
            let mut expected: Vec<String> = jobs.iter()
                .filter(|j| j.interpreter == interpreter.label)
                .map(|j| format!("{}=={}", j.project, j.version))
                .collect();
            expected.sort();
            let selected: Vec<String> = lines.iter()
                .filter(|r| r.evaluate_markers(env, &[]))
                .map(|r| format!("{}{}", r.name, r.version_or_url.as_ref().map(ToString::to_string).unwrap_or_default()))
                .collect();
            proptest::prop_assert_eq!(&selected, &expected, "{}", lock.text);
        }
    }
}
