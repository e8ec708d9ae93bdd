//! Unified diffs (per-package `patches`) applied to a small tree: apply or fail, never panic, and never write outside the tree (a sibling file and a symlinked directory stay untouched).
#![no_main]

use std::fs;

use libfuzzer_sys::fuzz_target;
use wheelwright::apply_patch;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
    fs::create_dir_all(root.join("src")).expect("root");
    fs::create_dir_all(&outside).expect("outside");
    fs::write(root.join("a"), "a\nb\nc\n").expect("a");
    fs::write(root.join("src/x.c"), "one\ntwo\nthree\n").expect("x.c");
    fs::write(outside.join("victim"), "safe\n").expect("victim");
    std::os::unix::fs::symlink(&outside, root.join("link")).expect("link");
    let patch = dir.path().join("fix.diff");
    fs::write(&patch, text).expect("patch");
    let _ = apply_patch(&root, &patch);
    // Outside the tree: only what was made above.
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["fix.diff", "outside", "root"]);
    let outside_names: Vec<_> = fs::read_dir(&outside)
        .expect("list outside")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(outside_names, ["victim"]);
    assert_eq!(
        fs::read_to_string(outside.join("victim")).expect("victim"),
        "safe\n"
    );
    assert_eq!(fs::read_to_string(&patch).expect("patch"), text);
});
