#!/usr/bin/env python3
"""Turn a directory of `.crate` files into a cargo local registry (Python 3.11+, stdlib only).

The test suite's stand-in for a company's crate mirror: `scripts/test.sh` fetches the crates
of the Rust fixture once with cargo, then this script lays them out as cargo's
`local-registry` source expects: every `NAME-VERSION.crate` at the top, and an `index/` tree
in the registry index format (one JSON line per version, at `1/NAME`, `2/NAME`, `3/N/NAME` or
`NA/ME/NAME`). Each line is made from the crate's own (normalised) `Cargo.toml`; `cksum` is
the sha256 of the `.crate` file, which is what `Cargo.lock` records.

    python3 scripts/crate_registry.py CRATES_DIR... REGISTRY_DIR
"""

import hashlib
import json
import os
import shutil
import sys
import tarfile
import tomllib


def index_path(name):
    name = name.lower()
    if len(name) <= 2:
        return os.path.join(str(len(name)), name)
    if len(name) == 3:
        return os.path.join("3", name[0], name)
    return os.path.join(name[:2], name[2:4], name)


def dependency(name, spec, kind, target):
    if isinstance(spec, str):
        spec = {"version": spec}
    dep = {
        "name": name,
        "req": spec.get("version", "*"),
        "features": spec.get("features", []),
        "optional": spec.get("optional", False),
        "default_features": spec.get("default-features", spec.get("default_features", True)),
        "target": target,
        "kind": kind,
    }
    if "package" in spec:
        # The index names the dependency by its real crate name and keeps the rename.
        dep["name"], dep["package"] = spec["package"], name
    return dep


def dependencies(manifest):
    tables = [(manifest, None)]
    tables += [(t, cfg) for cfg, t in manifest.get("target", {}).items()]
    deps = []
    for table, target in tables:
        for key, kind in (("dependencies", "normal"), ("build-dependencies", "build"),
                          ("dev-dependencies", "dev")):
            for name, spec in sorted(table.get(key, {}).items()):
                deps.append(dependency(name, spec, kind, target))
    return deps


def entry(crate_path):
    with open(crate_path, "rb") as f:
        data = f.read()
    with tarfile.open(crate_path, "r:gz") as tar:
        manifest_member = next(m for m in tar.getmembers()
                               if m.name.count("/") == 1 and m.name.endswith("/Cargo.toml"))
        manifest = tomllib.loads(tar.extractfile(manifest_member).read().decode())
    package = manifest["package"]
    features = manifest.get("features", {})
    # `dep:` and `?/` feature syntax goes in `features2` (index format version 2).
    new_style = any(f.startswith("dep:") or "?/" in f for fs in features.values() for f in fs)
    line = {
        "name": package["name"],
        "vers": package["version"],
        "deps": dependencies(manifest),
        "cksum": hashlib.sha256(data).hexdigest(),
        "features": {} if new_style else features,
        "yanked": False,
        "links": package.get("links"),
    }
    if new_style:
        line["features2"], line["v"] = features, 2
    if "rust-version" in package:
        line["rust_version"] = package["rust-version"]
    return line


def main(crates_dirs, registry_dir):
    lines = {}
    os.makedirs(registry_dir, exist_ok=True)
    crates = sorted((filename, os.path.join(d, filename))
                    for d in crates_dirs for filename in os.listdir(d)
                    if filename.endswith(".crate"))
    for _, path in crates:
        line = entry(path)
        if any(old["vers"] == line["vers"] for old in lines.get(line["name"], [])):
            continue
        lines.setdefault(line["name"], []).append(line)
        shutil.copyfile(path,
                        os.path.join(registry_dir, "%s-%s.crate" % (line["name"], line["vers"])))
    for name, versions in sorted(lines.items()):
        path = os.path.join(registry_dir, "index", index_path(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            for line in versions:
                f.write(json.dumps(line, sort_keys=True) + "\n")
    print("local registry %s: %d crates" % (registry_dir, sum(map(len, lines.values()))))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:-1], sys.argv[-1]))
