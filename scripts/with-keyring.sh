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
  status=0
  dbus-run-session -- "$0" "$@" || status=$?
  exit "$status"
fi

# Inside the D-Bus session: start the keyring daemon with a throwaway password; it creates and unlocks the
# default "login" collection.
eval "$(printf '%s' "test-keyring-password" | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
exec "$@"
