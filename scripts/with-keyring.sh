#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring (a real Secret Service),
# in a fresh HOME and XDG_RUNTIME_DIR, so tests never touch the user's own keychain. The proxy's lock folder is
# chosen by user id, not by XDG_RUNTIME_DIR, so MCP_KEYPROXY_RUNTIME_DIR keeps a run's locks apart from others'.
# Usage: scripts/with-keyring.sh <command> [args...]
set -euo pipefail

if [ -z "${MCP_KEYPROXY_IN_KEYRING_SESSION:-}" ]; then
  sandbox=$(mktemp -d "${TMPDIR:-/tmp}/mcp-keyproxy-keyring.XXXXXX")
  mkdir -p "$sandbox/home" "$sandbox/run"
  chmod 700 "$sandbox/run"
  trap 'rm -rf "$sandbox"' EXIT
  export HOME="$sandbox/home" XDG_RUNTIME_DIR="$sandbox/run" MCP_KEYPROXY_IN_KEYRING_SESSION=1
  export MCP_KEYPROXY_RUNTIME_DIR="$sandbox/run/mcp-keyproxy"
  unset DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL
  # Should the keyring daemon ever exit, D-Bus starts a new one for the next call, which would find "login" locked
  # (the system's service file starts it with no password) and fail every later test with "The keychain is locked".
  # This session's bus looks in $sandbox/services before the system's folders: there, the daemon is started again
  # unlocked with the test password, and each such start is logged (MCP_KEYPROXY_KEYRING_LOG; scripts/test-all.sh
  # reports them), so a daemon that died is seen rather than hidden. Tests that lock "login" do so over D-Bus with
  # the daemon running, and unlock it again themselves (test/helpers/keyring.ts).
  mkdir -p "$sandbox/services"
  cat >"$sandbox/keyring-restart.sh" <<EOF
#!/bin/sh
echo "\$(date -u +%FT%TZ) the test keyring daemon was not running; D-Bus started it again (unlocked)" >>"${MCP_KEYPROXY_KEYRING_LOG:-$sandbox/keyring-daemon.log}"
printf '%s' test-keyring-password | exec nice -n -10 gnome-keyring-daemon --unlock --foreground --components=secrets
EOF
  chmod 700 "$sandbox/keyring-restart.sh"
  printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s\n' "$sandbox/keyring-restart.sh" \
    >"$sandbox/services/org.freedesktop.secrets.service"
  printf '<busconfig><servicedir>%s</servicedir><include>/usr/share/dbus-1/session.conf</include></busconfig>\n' \
    "$sandbox/services" >"$sandbox/session.conf"
  status=0
  dbus-run-session --config-file="$sandbox/session.conf" -- "$0" "$@" || status=$?
  exit "$status"
fi

# Inside the D-Bus session: start the keyring daemon with a throwaway password; it creates and unlocks the
# default "login" collection.
#
# The daemon runs at a higher CPU priority (nice -10, where allowed; GNU nice runs it anyway, with a warning, where
# not). It answers one request at a time, and with the suite's own processes (two copies, in a paired run) on two
# vCPUs it was starved past the proxy's 5 s keychain timeout: `secrets set` steps of unrelated tests failed with
# exit 69. A desktop's daemon does not compete with a test suite.
eval "$(printf '%s' "test-keyring-password" | nice -n -10 gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
exec "$@"
