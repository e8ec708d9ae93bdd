//! Distributions written by the tests themselves: minimal valid wheels with the
//! `Requires-Dist` lines a resolver test needs, and sdists whose build back end fails (an
//! old release whose hooks no longer run), each in the shape pip and wheelwright read.

use std::path::Path;

/// A minimal valid wheel `{name}-{version}-py3-none-any.whl` in `dir` with these
/// `Requires-Dist` lines and extras.
pub(crate) fn make_wheel(
    dir: &Path,
    project: &str,
    version: &str,
    requires: &[&str],
    extras: &[&str],
) {
    make_wheel_with(dir, project, version, requires, extras, "");
}

/// [`make_wheel`] with more METADATA header lines.
pub(crate) fn make_wheel_with(
    dir: &Path,
    project: &str,
    version: &str,
    requires: &[&str],
    extras: &[&str],
    headers: &str,
) {
    use std::io::Write;
    let dist = project.replace('-', "_");
    let info = format!("{dist}-{version}.dist-info");
    let mut metadata =
        format!("Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n{headers}");
    for extra in extras {
        metadata.push_str(&format!("Provides-Extra: {extra}\n"));
    }
    for line in requires {
        metadata.push_str(&format!("Requires-Dist: {line}\n"));
    }
    let members = [
        (format!("{dist}/__init__.py"), String::new()),
        (format!("{info}/METADATA"), metadata),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: wheelwright-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_string(),
        ),
    ];
    let path = dir.join(format!("{dist}-{version}-py3-none-any.whl"));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let mut record = String::new();
    for (member, content) in &members {
        zip.start_file(member.as_str(), options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
        record.push_str(&format!("{member},,\n"));
    }
    zip.start_file(format!("{info}/RECORD"), options).unwrap();
    record.push_str(&format!("{info}/RECORD,,\n"));
    zip.write_all(record.as_bytes()).unwrap();
    zip.finish().unwrap();
}

/// An sdist `{dist}-{version}.tar.gz` in `dir` whose in-tree back end raises in every hook,
/// as an old release whose `setup.py` needs what no interpreter has any more: preparing its
/// metadata fails (`get_requires_for_build_wheel` is the first hook asked).
pub(crate) fn make_failing_sdist(dir: &Path, project: &str, version: &str) {
    let dist = project.replace('-', "_");
    let top = format!("{dist}-{version}");
    let pkg_info = format!("Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n");
    let pyproject = "[build-system]\nrequires = []\nbuild-backend = \"broken_backend\"\nbackend-path = [\"_backend\"]\n";
    let backend = "raise ImportError(\"No module named 'pkg_resources'\")\n";
    let path = dir.join(format!("{top}.tar.gz"));
    let out = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(out);
    for (name, content) in [
        (format!("{top}/PKG-INFO"), pkg_info.as_str()),
        (format!("{top}/pyproject.toml"), pyproject),
        (format!("{top}/_backend/broken_backend.py"), backend),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        tar.append_data(&mut header, name, content.as_bytes())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}
