//! The resolver's source over a real index: a closure with an extra, a marker, a cycle, a
//! bound and a Requires-Python only METADATA states.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use wheelwright::index::{Source, Upstream};

use super::{client, fetcher, name, python, runtime, version};
use crate::support::{Pypiserver, make_wheel, make_wheel_with};

#[test]
fn the_resolver_walks_a_closure_over_pypiserver_with_range_reads_and_then_the_cache() {
    use wheelwright::metadata::{IndexMetadataSource, SourceOptions};
    use wheelwright::resolve::{Line, Options, Via, resolve};
    let packages = tempfile::tempdir().unwrap();
    let p = packages.path();
    make_wheel(
        p,
        "ww-top",
        "1.0",
        &[
            "ww-mid>=1",
            "ww-rp",
            "ww-fast-dep; extra == \"fast\"",
            "ww-never; python_version < \"3\"",
        ],
        &["fast"],
    );
    make_wheel(p, "ww-mid", "1.0", &["ww-leaf"], &[]);
    // A cycle back to the root, and a bound that keeps the older leaf.
    make_wheel(p, "ww-mid", "2.0", &["ww-leaf<2", "ww-top"], &[]);
    make_wheel(p, "ww-leaf", "1.0", &[], &[]);
    make_wheel(p, "ww-leaf", "2.0", &[], &[]);
    make_wheel(p, "ww-fast-dep", "1.0", &[], &[]);
    // Requires-Python only in METADATA (pypiserver lists none): 2.0 is skipped, as pip does.
    make_wheel(p, "ww-rp", "1.0", &[], &[]);
    make_wheel_with(p, "ww-rp", "2.0", &[], &[], "Requires-Python: <3\n");
    let server = Pypiserver::start(p, None);
    let rt = runtime();
    let interpreter = Arc::new(
        rt.block_on(wheelwright::interpreter::probe(&python()))
            .expect("probe python3"),
    );
    let cache = tempfile::tempdir().unwrap();
    let roots = vec![Line::new(
        pep508_rs::Requirement::from_str("ww-top[fast]").unwrap(),
        "requirements.txt:1",
    )];
    let solve = || {
        let client = client();
        let upstream = Upstream::new(vec![
            Source::index_url(&format!("{}/simple/", server.url()), &client).unwrap(),
        ]);
        let source = IndexMetadataSource::new(
            rt.handle().clone(),
            Arc::new(upstream),
            client,
            fetcher(cache.path()),
            Arc::clone(&interpreter),
            SourceOptions::default(),
        );
        // The solver blocks on the runtime's handle: it runs on this (non-runtime) thread.
        let solution = resolve(
            &source,
            &interpreter.markers,
            &roots,
            &[],
            Options::default(),
        )
        .expect("a solution");
        source.wait_for_prefetch();
        solution
    };
    let resolution = solve();
    let pins = resolution.pins();
    assert_eq!(
        pins,
        [
            "ww-fast-dep 1.0",
            "ww-leaf 1.0",
            "ww-mid 2.0",
            "ww-rp 1.0",
            "ww-top 1.0"
        ],
        "{resolution:?}"
    );
    let leaf = &resolution.packages[&name("ww-leaf")];
    assert!(leaf.via.contains(&Via::Package {
        name: name("ww-mid"),
        version: version("2.0"),
        extra: None,
    }));
    // Each wheel read is cached by its sha256 (pypiserver lists it): the five chosen, ww-rp
    // 2.0 (read, then excluded) and ww-leaf 2.0, the newest, which the prefetch warmed
    // before ww-mid's bound ruled it out.
    let cached = walk_files(&cache.path().join("metadata/wheel"));
    assert_eq!(cached, 7);
    assert!(
        !cache.path().join("store").exists() || walk_files(&cache.path().join("store/sha256")) == 0,
        "range reads download no wheel"
    );
    // The second solve reads every METADATA from the cache.
    assert_eq!(solve().pins(), pins);
    assert_eq!(walk_files(&cache.path().join("metadata/wheel")), 7);
    server.assert_no_tracebacks();
}

fn walk_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { walk_files(&path) } else { 1 }
        })
        .sum()
}

#[test]
fn prefetch_lists_the_project_and_caches_the_metadata_of_its_newest_wheel() {
    use wheelwright::distribution::{Sha256, sha256_file};
    use wheelwright::metadata::{CacheKind, IndexMetadataSource, MetadataCache, SourceOptions};
    use wheelwright::resolve::MetadataSource;
    let packages = tempfile::tempdir().unwrap();
    let p = packages.path();
    make_wheel(p, "ww-leaf", "1.0", &[], &[]);
    make_wheel(p, "ww-leaf", "2.0", &[], &[]);
    make_wheel(p, "ww-leaf", "3.0b1", &[], &[]);
    let server = Pypiserver::start(p, None);
    let rt = runtime();
    let interpreter = Arc::new(
        rt.block_on(wheelwright::interpreter::probe(&python()))
            .expect("probe python3"),
    );
    let cache = tempfile::tempdir().unwrap();
    let client = client();
    let upstream = Upstream::new(vec![
        Source::index_url(&format!("{}/simple/", server.url()), &client).unwrap(),
    ]);
    let source = IndexMetadataSource::new(
        rt.handle().clone(),
        Arc::new(upstream),
        client,
        fetcher(cache.path()),
        Arc::clone(&interpreter),
        SourceOptions::default(),
    );
    source.prefetch(&[name("ww-leaf")]);
    source.wait_for_prefetch();
    let entry = |v: &str| {
        let wheel = p.join(format!("ww_leaf-{v}-py3-none-any.whl"));
        let sha = Sha256::new(&sha256_file(&wheel).unwrap()).unwrap();
        MetadataCache::new(cache.path())
            .path_for(CacheKind::Wheel, &sha)
            .is_file()
    };
    assert!(entry("2.0"), "the newest final release is cached");
    assert!(!entry("1.0") && !entry("3.0b1"), "nothing else is fetched");
    // The listing is there too: the candidates need no new request (pypiserver stopped).
    drop(server);
    let candidates = source.candidates(&name("ww-leaf")).expect("listed");
    assert_eq!(candidates.len(), 3);
}
