//! Parses requirements files the way `plan` and `fill` do and prints every entry with its
//! origin. `cargo run --example parse_requirements -- fixtures/requirements/full-grammar.txt`
use std::path::PathBuf;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let lookup = |key: &str| std::env::var(key).ok();
    match wheelwright::requirements::parse_files(&paths, &lookup) {
        Ok(parsed) => {
            for entry in &parsed.requirements {
                println!(
                    "{}  {}  hashes={}",
                    entry.origin,
                    entry.requirement,
                    entry.hashes.len()
                );
            }
            for entry in &parsed.unsupported {
                println!("{entry}");
            }
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    }
}
