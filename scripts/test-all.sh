#!/usr/bin/env bash
# The whole test suite on a fresh Debian/Ubuntu machine: installs the system packages it needs, the npm
# dependencies, builds the CLI and the GTK dialog, then runs unit and e2e tests inside a private D-Bus session
# with an unlocked gnome-keyring and a private Xvfb display. Never touches the user's own keychain or display.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
npm run build:dialog
npm run typecheck
npm run lint

mkdir -p test-artifacts
status=0
# Every temporary file and folder of the run (configs, state folders, keyring sandboxes) goes under one folder that
# is removed at the end, so a test that does not clean up after itself leaves nothing on the machine.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/mcp-keyproxy-tests.XXXXXX")
trap 'rm -rf "$run_tmp"' EXIT
# Others may pass through (not list it): a test runs a copy of the dialog as nobody from a folder in it.
chmod 711 "$run_tmp"
export TMPDIR="$run_tmp"
# Each time the test keyring daemon had to be started again is logged here (scripts/with-keyring.sh).
export MCP_KEYPROXY_KEYRING_LOG="$PWD/test-artifacts/keyring-daemon.log"
rm -f "$MCP_KEYPROXY_KEYRING_LOG"
scripts/with-keyring.sh scripts/with-display.sh \
  npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json || status=$?

if [ -s "$MCP_KEYPROXY_KEYRING_LOG" ]; then
  echo "WARNING: the test keyring daemon stopped during the run and D-Bus started it again:" >&2
  cat "$MCP_KEYPROXY_KEYRING_LOG" >&2
fi

# One plain closing line that any CI can read.
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' || status=1
exit "$status"
