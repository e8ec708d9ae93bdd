//! The files of many projects in one place (a find-links directory or page, a directory
//! target), grouped once by the project each may belong to: asking for one project then
//! costs that project's files, not a pass over the whole place. A directory of 50,000 wheels
//! asked about 50,000 projects is otherwise 2.5 billion name comparisons.

use std::collections::HashMap;
use std::str::FromStr;

use pep508_rs::PackageName;

use super::IndexFile;
use crate::distribution::DistFilename;

/// Files grouped by candidate project name, in their original order within each project.
#[derive(Debug, Default)]
pub struct ByProject {
    files: Vec<IndexFile>,
    names: HashMap<PackageName, Vec<usize>>,
}

impl ByProject {
    pub fn new(files: Vec<IndexFile>) -> ByProject {
        let mut names: HashMap<PackageName, Vec<usize>> = HashMap::new();
        for (at, file) in files.iter().enumerate() {
            for name in candidates(&file.filename) {
                names.entry(name).or_default().push(at);
            }
        }
        ByProject { files, names }
    }

    /// Every file, in the original order.
    pub fn all(&self) -> &[IndexFile] {
        &self.files
    }

    /// The distributions of `name`: the files whose names parse as one of its wheels or
    /// sdists.
    pub fn project(&self, name: &PackageName) -> Vec<IndexFile> {
        self.names
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|&at| self.files.get(at))
            .filter(|file| DistFilename::parse(&file.filename, name).is_some())
            .cloned()
            .collect()
    }
}

/// The projects a file name can be a distribution of. A wheel's name has no `-` (PEP 427
/// escapes it), so its first component is the only candidate. An sdist is `NAME-VERSION.ext`
/// where a legacy NAME may itself contain `-`: every part of the file name before one of its
/// `-` is a candidate, and parsing against the project asked for decides.
fn candidates(filename: &str) -> Vec<PackageName> {
    let ends: Vec<usize> = filename.match_indices('-').map(|(at, _)| at).collect();
    let ends = if filename.ends_with(".whl") {
        &ends[..ends.len().min(1)]
    } else {
        &ends[..]
    };
    ends.iter()
        .filter_map(|&end| filename.get(..end))
        .filter_map(|prefix| PackageName::from_str(prefix).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> IndexFile {
        IndexFile {
            filename: crate::distribution::SafeFilename::new(name).unwrap(),
            url: url::Url::parse(&format!("file:///d/{name}")).unwrap(),
            sha256: None,
            size: None,
            upload_time: None,
            requires_python: None,
            yanked: None,
            stage: None,
            metadata_file: Default::default(),
        }
    }

    fn names(found: Vec<IndexFile>) -> Vec<String> {
        found.into_iter().map(|f| f.filename.to_string()).collect()
    }

    proptest::proptest! {
        /// Grouping never changes what a project gets: the same files as parsing every file
        /// against it.
        #[test]
        fn grouping_is_parsing(
            files in proptest::collection::vec("[aAb][-_.]?[ab]?(-[0-9](\\.[0-9])?){1,2}(-py3-none-any\\.whl|\\.tar\\.gz|\\.zip|-x\\.whl)", 0..12),
            asked in "[ab][-_.]?[ab]?(-[0-9])?",
        ) {
            let Ok(name) = PackageName::from_str(&asked) else { return Ok(()) };
            let unique: std::collections::BTreeSet<String> = files.into_iter().collect();
            let index = ByProject::new(unique.iter().map(|n| file(n)).collect());
            let slow: Vec<String> = unique
                .iter()
                .filter(|f| DistFilename::parse(f, &name).is_some())
                .cloned()
                .collect();
            proptest::prop_assert_eq!(names(index.project(&name)), slow);
        }
    }

    #[test]
    fn each_project_gets_exactly_what_parsing_assigns_it() {
        let all = [
            "Foo_Bar-1.0-py3-none-any.whl",
            "foo-bar-2.0.tar.gz",
            "foo-bar-baz-1.0.tar.gz",
            "foo-1.0.zip",
            "foo_bar-3.0.tar.gz",
            "README",
            "foo-bar-1.0.tar.gz.asc",
        ];
        let index = ByProject::new(all.iter().map(|n| file(n)).collect());
        let project = |n: &str| names(index.project(&PackageName::from_str(n).unwrap()));
        assert_eq!(
            project("foo-bar"),
            [
                "Foo_Bar-1.0-py3-none-any.whl",
                "foo-bar-2.0.tar.gz",
                "foo_bar-3.0.tar.gz"
            ]
        );
        assert_eq!(project("foo-bar-baz"), ["foo-bar-baz-1.0.tar.gz"]);
        assert_eq!(project("foo"), ["foo-1.0.zip"]);
        assert!(project("readme").is_empty());
        // The same answer as parsing every file against the project.
        for name in ["foo-bar", "foo-bar-baz", "foo", "bar"] {
            let name = PackageName::from_str(name).unwrap();
            let slow: Vec<String> = all
                .iter()
                .filter(|f| DistFilename::parse(f, &name).is_some())
                .map(|f| f.to_string())
                .collect();
            assert_eq!(names(index.project(&name)), slow, "{name}");
        }
    }
}
