#!/usr/bin/env bash
# The project's whole test command (also what CI runs, via .ci/run).
#
# Idempotent; works on a fresh Debian machine with only the Rust toolchain and python3, from
# any working directory. Steps:
#   1. system packages (bubblewrap, nginx-light, openssl, chromium) when root and missing
#   2. .venv-test with devpi-server and pypiserver (pinned; re-run pip only when pins change)
#   3. build-backend wheels downloaded once into .cache/upstream-wheels (local upstream), and
#      the Rust fixture's crates into .cache/rust-crates (a local crate registry)
#   4. fixtures/dist/ reproducibility check
#   5. cargo fmt --check, clippy -D warnings, cargo test; then no test server may be left running
#   6. packaging: `cargo install --path .` into a scratch root; as root also the Debian package
#      (scripts/package-deb.sh), installed with dpkg and checked (binary, man page, completions)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv-test"
UPSTREAM="$ROOT/.cache/upstream-wheels"

# Pins verified to work together (devpi-server version: see docs/devpi-protocol.md).
VENV_PACKAGES=(
  "devpi-server==6.20.3"
  "pypiserver==2.4.2"
  "passlib==1.7.4" # pypiserver's htpasswd support (its `passlib` extra)
  "packaging==26.4"
  "devpi-tokens==1.1.0" # tokens as passwords (the enterprise tests)
  "spdx-tools==0.8.5" # pyspdxtools validates the `--sbom` documents (provenance tests)
  "uv==0.13.10" # the directory target's JSON pages and metadata files, pylock.toml installs
  "pip==26.3" # `pip install -r pylock.toml` (PEP 751) needs pip 26; a new venv may bring less
)
# Build backends for build tests, as wheels. The second set serves the oldest interpreter we
# build for (3.8), which the newest releases dropped. ww-flit needs flit_core<4.
# maturin builds the Rust fixture (ww-rust-ext).
UPSTREAM_PACKAGES=("setuptools==84.2.1" "wheel==0.48.0" "flit_core==3.12.0" "hatchling==1.33.0" "maturin==1.16.0")
UPSTREAM_PACKAGES_PY38=("setuptools==75.3.4" "wheel==0.45.1" "flit_core==3.12.0" "hatchling==1.27.0" "tomli==2.5.0")

section() {
  printf '\n\033[1m==> %s\033[0m\n' "$*"
}

section "1/6 system packages"
missing=()
# procps: pgrep (leftover checks); util-linux: unshare/setpriv (the sandbox as root); curl:
# the TLS tests' cross-check; ca-certificates: Debian's system bundle the TLS tests load;
# chromium: the HTML report is checked in a real (headless) browser under Jenkins' policy.
for pkg in bubblewrap nginx-light openssl procps util-linux curl ca-certificates chromium; do
  if ! dpkg -s "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done
# Debian's own python3 needs python3-venv for `python3 -m venv`, and python3-dev for the
# C-extension fixture (a pyenv or self-built Python has both).
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
if ! python3 -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  missing+=(python3-dev)
fi
if [ "${#missing[@]}" -eq 0 ]; then
  echo "bubblewrap, nginx-light, openssl, procps, util-linux, curl, ca-certificates, chromium, python venv and headers: installed"
elif [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "error: missing system packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})" >&2
  exit 1
fi

section "2/6 test virtualenv ($VENV)"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.wheelwright-packages"
wanted="$(printf '%s\n' "${VENV_PACKAGES[@]}")"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  "$VENV/bin/python" -m pip install --disable-pip-version-check "${VENV_PACKAGES[@]}"
  printf '%s\n' "$wanted" >"$stamp"
else
  echo "up to date: ${VENV_PACKAGES[*]}"
fi

section "3/6 upstream wheels ($UPSTREAM)"
stamp="$UPSTREAM/.wheelwright-packages"
wanted="$(printf '%s\n' "${UPSTREAM_PACKAGES[@]}" -- "${UPSTREAM_PACKAGES_PY38[@]}")"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  mkdir -p "$UPSTREAM"
  "$VENV/bin/python" -m pip download --disable-pip-version-check --only-binary=:all: \
    --dest "$UPSTREAM" "${UPSTREAM_PACKAGES[@]}"
  "$VENV/bin/python" -m pip download --disable-pip-version-check --only-binary=:all: \
    --python-version 3.8 --dest "$UPSTREAM" "${UPSTREAM_PACKAGES_PY38[@]}"
  printf '%s\n' "$wanted" >"$stamp"
else
  echo "up to date: $(find "$UPSTREAM" -name '*.whl' | wc -l) wheels"
fi

# The Rust fixture's crates: fetched once with cargo (the only time the suite reaches a crate
# registry), then laid out as a cargo local registry, which the Rust build tests configure as
# the user's source replacement (their stand-in for a company's crate mirror).
CRATES="$ROOT/.cache/rust-crates"
RUST_FIXTURE="$ROOT/fixtures/src/ww-rust-ext-1.0"
wanted="$(sha256sum "$RUST_FIXTURE/Cargo.lock" | cut -d' ' -f1)"
if [ "$(cat "$CRATES/.wheelwright-lock" 2>/dev/null || true)" != "$wanted" ]; then
  CARGO_HOME="$CRATES/cargo-home" cargo fetch --locked --manifest-path "$RUST_FIXTURE/Cargo.toml"
  rm -rf "$CRATES/local-registry"
  "$VENV/bin/python" scripts/crate_registry.py "$CRATES/cargo-home/registry/cache/"*/ \
    "$CRATES/local-registry"
  printf '%s\n' "$wanted" >"$CRATES/.wheelwright-lock"
else
  echo "up to date: $(find "$CRATES/local-registry" -name '*.crate' | wc -l) crates"
fi

section "4/6 fixtures reproducibility"
python3 fixtures/build_fixtures.py --check
# The --build-path test builds with rustup's proxies (cargo, rustc) and its toolchains.
if ! command -v rustup >/dev/null; then
  echo "error: rustup is not on PATH; the --build-path tests need a rustup-installed Rust" >&2
  exit 1
fi

section "5/6 cargo fmt, clippy, test"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

# Every server the harness starts has this run id in its command line (temp dir names), so
# we can tell our leftovers from servers of other runs on the same machine.
WHEELWRIGHT_TEST_RUN_ID="run$$x$(date +%s)"
export WHEELWRIGHT_TEST_RUN_ID
export WHEELWRIGHT_TEST_VENV="$VENV"
status=0
# Snapshot tests (insta) never accept a new or changed snapshot here: a mismatch fails,
# whatever the caller's environment says (update snapshots with `cargo insta review`).
unset INSTA_FORCE_PASS
INSTA_UPDATE=no cargo test --no-fail-fast || status=$?

section "leftover test servers"
# The watchdogs stop their servers when the test process exits; give them a moment.
leftover=""
for _ in $(seq 1 30); do
  leftover="$(pgrep -af "wheelwright-it-$WHEELWRIGHT_TEST_RUN_ID" || true)"
  [ -z "$leftover" ] && break
  sleep 0.5
done
if [ -n "$leftover" ]; then
  echo "error: test servers still running after cargo test:" >&2
  echo "$leftover" >&2
  exit 1
fi
echo "none"

if [ "$status" -ne 0 ]; then
  echo "cargo test failed (exit $status)" >&2
  exit "$status"
fi

section "6/6 packaging"
# After the tests, so a packaging failure reads as one. Both builds share target/ (same
# release profile), so the second is a no-op and the step costs one release build.
packaging_start=$SECONDS
install_root="$(mktemp -d)"
cargo install --path . --locked --quiet --root "$install_root" \
  --target-dir "${CARGO_TARGET_DIR:-$ROOT/target}"
echo "cargo install: $("$install_root/bin/wheelwright" --version)"
rm -rf "$install_root"
if [ "$(id -u)" -eq 0 ]; then
  deb="$(scripts/package-deb.sh --fast | tail -n 1)"
  echo "built $deb"
  was_installed=0
  dpkg -s wheelwright >/dev/null 2>&1 && was_installed=1
  dpkg -i "$deb"
  version="$(/usr/bin/wheelwright --version)"
  expected="wheelwright $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
  if [ "$version" != "$expected" ]; then
    echo "error: the installed package says \`$version\`, expected \`$expected\`" >&2
    exit 1
  fi
  for file in /usr/share/man/man1/wheelwright.1.gz /usr/share/man/man1/wheelwright-fill.1.gz \
    /usr/share/bash-completion/completions/wheelwright \
    /usr/share/zsh/vendor-completions/_wheelwright \
    /usr/share/fish/vendor_completions.d/wheelwright.fish; do
    if [ ! -s "$file" ]; then
      echo "error: the installed package lacks $file" >&2
      exit 1
    fi
  done
  echo "dpkg -i: $version, man pages and completions in place"
  # Leave the machine as it was: remove the package unless it was installed before.
  if [ "$was_installed" -eq 0 ]; then
    dpkg -r wheelwright >/dev/null
  fi
else
  echo "not root: the Debian package is not built and installed (needs dpkg -i)"
fi
echo "packaging took $((SECONDS - packaging_start))s"
section "all checks passed"
