use super::*;

fn parse(text: &str) -> Result<PackageSettings, PackageSettingsError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fix.diff"),
        "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .unwrap();
    PackageSettings::parse(text, &dir.path().join("wheelwright.toml"))
}

fn name(text: &str) -> PackageName {
    PackageName::from_str(text).unwrap()
}

fn version(text: &str) -> Version {
    Version::from_str(text).unwrap()
}

#[test]
fn tables_apply_by_name_and_version_in_file_order() {
    let settings = parse(
        r#"
index-url = "http://ignored.invalid/simple/"

[package.NumPy]
env = { NPY_BLAS_ORDER = "openblas", CFLAGS = "-O1" }
config-settings = { setup-args = ["-Dblas=openblas"] }
extra-build-requires = ["cython>=3"]
patches = ["fix.diff"]

[[package.pyyaml]]
versions = "<6"
build = false
reason = "5.x needs Cython 2"

[[package.pyyaml]]
versions = ">=6"
jobs = 1
build-constraints = ["cython==3.0.11"]
env = { CFLAGS = "-O2" }
"#,
    )
    .unwrap();
    let numpy = settings.for_build(&name("numpy"), &version("2.1.0"));
    assert_eq!(numpy.env["NPY_BLAS_ORDER"], "openblas");
    assert_eq!(numpy.config_settings["setup-args"], ["-Dblas=openblas"]);
    assert_eq!(numpy.extra_build_requires[0].to_string(), "cython>=3");
    assert_eq!(numpy.patches.len(), 1);
    assert!(
        numpy.from[0].ends_with("wheelwright.toml:4"),
        "{:?}",
        numpy.from
    );
    assert!(!numpy.exclusive && numpy.no_build.is_none());

    let old = settings.for_build(&name("PyYAML"), &version("5.4.1"));
    assert_eq!(old.no_build.as_ref().unwrap().reason, "5.x needs Cython 2");
    assert!(!old.exclusive);
    let new = settings.for_build(&name("pyyaml"), &version("6.0.2"));
    assert!(new.exclusive && new.no_build.is_none());
    assert_eq!(new.build_constraints[0].to_string(), "cython==3.0.11");
    assert_eq!(
        new.summary().unwrap(),
        format!(
            "settings from {} (env, build-constraints, jobs = 1)",
            new.from[0]
        )
    );
    assert!(settings.for_build(&name("six"), &version("1.0")).is_empty());
    let json = serde_json::to_value(&new).unwrap();
    assert_eq!(json["build-constraints"][0], "cython==3.0.11");
    assert_eq!(json["exclusive"], true);
    assert!(
        json.get("patches").is_none(),
        "empty fields are left out: {json}"
    );
}

#[test]
fn bad_tables_are_errors_naming_file_and_line() {
    for (text, line, expected) in [
        (
            "[package.numpy]\nenvv = {}\n",
            ":1:",
            "unknown field `envv`",
        ),
        ("[package.numpy]\nversions = \">=x\"\n", ":1:", "versions"),
        (
            "\n[package.numpy]\nextra-build-requires = [\"cython >>> 3\"]\n",
            ":2:",
            "not a requirement",
        ),
        (
            "[package.six]\n[[package.numpy]]\n[[package.numpy]]\nbuild-constraints = [\"cython>=3\"]\n",
            ":3:",
            "must pin one version",
        ),
        (
            "[package.numpy]\npatches = [\"missing.diff\"]\n",
            ":1:",
            "is not a file",
        ),
        ("[package.numpy]\njobs = 4\n", ":1:", "only `jobs = 1`"),
        ("[package]\nnumpy = 3\n", ":2:", "numpy"),
        ("[package.numpy]\nbuild = false\n", ":1:", "needs a `reason"),
        (
            "[package.\"not a name!\"]\nenv = {}\n",
            ":1:",
            "not a project name",
        ),
    ] {
        let message = parse(text).unwrap_err().to_string();
        assert!(
            message.contains("wheelwright.toml")
                && message.contains(line)
                && message.contains(expected),
            "{text:?}: {message}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(crate::proptest_config())]
    /// Any text: a value or an error, never a panic.
    #[test]
    fn hostile_files_never_panic(text in "(\\[\\[?package\\.[a-z\"!]{0,6}\\]\\]?\n([a-z\\-]{0,20} = [\\[\\]{}\"a-z0-9=<>,. ]{0,20}\n){0,4}){0,3}") {
        let _ = parse(&text);
    }
}

#[test]
fn the_fingerprint_is_empty_without_settings_and_follows_the_patch_contents() {
    assert_eq!(BuildSettings::default().fingerprint(), "");
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("fix.diff");
    std::fs::write(&patch, "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n").unwrap();
    let config = dir.path().join("wheelwright.toml");
    let settings = PackageSettings::parse("[package.six]\npatches = [\"fix.diff\"]\n", &config)
        .unwrap()
        .for_build(&name("six"), &version("1.0"));
    let before = settings.fingerprint();
    assert_eq!(before.len(), 64);
    assert_eq!(settings.fingerprint(), before, "stable");
    // The same path with other contents is another build.
    std::fs::write(&patch, "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+c\n").unwrap();
    assert_ne!(settings.fingerprint(), before);
    // Another setting is another build too.
    let env = PackageSettings::parse("[package.six]\nenv = { A = \"1\" }\n", &config)
        .unwrap()
        .for_build(&name("six"), &version("1.0"));
    assert_ne!(env.fingerprint(), before);
    assert_ne!(env.fingerprint(), "");
}
