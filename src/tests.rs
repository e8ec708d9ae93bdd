//! Crate-wide checks: `docs/architecture.md`'s module table is the law of the imports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `module name → layer` from the table's rows (`| \`plan/\` | 3 | … |`).
fn layers(doc: &str) -> BTreeMap<String, u32> {
    doc.lines()
        .filter_map(|line| {
            let mut cells = line.trim().strip_prefix('|')?.split('|').map(str::trim);
            let module = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            let layer = cells.next()?.parse().ok()?;
            let name = module.trim_end_matches('/').trim_end_matches(".rs");
            Some((name.to_string(), layer))
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Test-only files: `tests.rs`, `proptests.rs`, anything under a `tests/` folder.
fn is_test_file(relative: &Path) -> bool {
    relative.components().any(|c| c.as_os_str() == "tests")
        || relative
            .file_name()
            .is_some_and(|n| n == "tests.rs" || n == "proptests.rs")
}

/// The code before the first inline `#[cfg(test)] mod … {` (tests come last in a file).
fn without_inline_tests(text: &str) -> &str {
    let mut from = 0;
    while let Some(found) = text[from..].find("#[cfg(test)]") {
        let at = from + found;
        let rest = text[at + "#[cfg(test)]".len()..].trim_start();
        if rest.starts_with("mod ") && rest.split('\n').next().is_some_and(|l| l.contains('{')) {
            return &text[..at];
        }
        from = at + 1;
    }
    text
}

/// The top-level modules each `crate::` path of `line` names: `crate::plan::Job` and each
/// first segment of `crate::{plan::Job, index}` (which may span lines: `rest` is the text
/// from this line on).
fn named_modules(rest: &str) -> Vec<String> {
    let line = rest.split('\n').next().unwrap_or_default();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = line[from..].find("crate::") {
        let start = from + at + "crate::".len();
        from = start;
        let preceded_by_ident = line[..start - "crate::".len()]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        if preceded_by_ident {
            continue; // `$crate::`, `my_crate::`
        }
        let after = &rest[start..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut segment_start = true;
            let mut ident = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => segment_start = true,
                    c if depth == 1 && segment_start && (c.is_alphanumeric() || c == '_') => {
                        ident.push(c)
                    }
                    _ if depth == 1 && !ident.is_empty() => {
                        found.push(std::mem::take(&mut ident));
                        segment_start = false;
                    }
                    _ => {}
                }
            }
            if !ident.is_empty() {
                found.push(ident);
            }
        } else {
            let ident: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(ident);
        }
    }
    found
}

#[test]
fn every_import_goes_down_the_architecture_tables_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let layers = layers(&doc);
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();

    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" || top == "tests" || is_test_file(relative) {
            continue;
        }
        let Some(&own) = layers.get(&top) else {
            violations.push(format!(
                "src/{}: module `{top}` has no row in docs/architecture.md",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let code = without_inline_tests(&text);
        let mut offset = 0;
        for (number, line) in code.split('\n').enumerate() {
            let rest = &code[offset..];
            offset += line.len() + 1;
            // Plain comments are free text; doc comments count, since rustdoc resolves
            // their `crate::` links (a doc link upward is a dependency too).
            let trimmed = line.trim_start();
            let doc = trimmed.starts_with("///") || trimmed.starts_with("//!");
            if trimmed.starts_with("//") && !doc {
                continue;
            }
            for module in named_modules(rest) {
                if module == top {
                    continue;
                }
                match layers.get(&module) {
                    Some(&layer) if layer < own => {}
                    Some(&layer) => violations.push(format!(
                        "src/{}:{}: `{top}` (layer {own}) uses `{module}` (layer {layer}); \
                         a module may use only lower layers",
                        relative.display(),
                        number + 1
                    )),
                    // Not a module of ours: a crate-root item such as `crate::proptest_config`.
                    None => {}
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_table_has_a_row_for_every_module_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let mut in_table: Vec<String> = layers(&doc).into_keys().collect();
    let mut in_src: Vec<String> = std::fs::read_dir(root.join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .filter(|name| !matches!(name.as_str(), "main" | "lib" | "tests"))
        .collect();
    in_table.sort();
    in_src.sort();
    in_src.dedup(); // `interpreter.rs` with its folder `interpreter/`
    assert_eq!(in_table, in_src);
}

#[test]
fn the_import_reader_sees_groups_and_skips_lookalikes() {
    let text = "use crate::{plan::Job, index::{self, Target},\n    store};\nlet x = $crate::y;";
    assert_eq!(named_modules(text), ["plan", "index", "store"]);
    assert_eq!(
        named_modules("f(crate::report::x, crate::exit::Failure)"),
        ["report", "exit"]
    );
    assert!(named_modules("let x = $crate::y; my_crate::z").is_empty());
    // An edge the table forbids is found: a low module naming a high one.
    let table = "| `retry.rs` | 0 | … | |\n| `plan/` | 3 | … | |";
    let layers = layers(table);
    assert!(layers["retry"] < layers["plan"]);
}
