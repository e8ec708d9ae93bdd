#!/usr/bin/env bash
# Builds the Debian package: target/debian/wheelwright_<version>-1_<arch>.deb.
#
#   1. cargo build --release (reuses target/ like every other cargo command here)
#   2. man pages and shell completions generated from the clap definitions by the release
#      binary itself (`wheelwright generate-assets`) into target/assets/
#   3. cargo deb --no-build: packages the binary and those assets as listed in
#      [package.metadata.deb] in Cargo.toml (cargo-deb gzips the man pages)
#
# Installs cargo-deb (pinned, --locked) when it is missing. Extra arguments go to
# `cargo deb` (e.g. --output DIR). Prints the path of the .deb as the last line.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_DEB_VERSION="3.8.0"

if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb $CARGO_DEB_VERSION (once)" >&2
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

cargo build --release --locked
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The asset paths in Cargo.toml are relative to the crate: target/assets/.
rm -rf "$ROOT/target/assets"
"$TARGET_DIR/release/wheelwright" generate-assets "$ROOT/target/assets"
cargo deb --no-build --locked "$@" | tail -n 1
