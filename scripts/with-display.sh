#!/usr/bin/env bash
# Runs a command with a private Xvfb display and a working AT-SPI accessibility bus, so GUI tests can show
# and drive the native dialog. Xvfb picks a free display number itself (-displayfd), access needs a fresh
# xauth cookie, and everything started here is stopped when the command ends or this script is signalled.
# Usage: scripts/with-display.sh <command> [args...]
# Composes with scripts/with-keyring.sh in either order, e.g.
#   scripts/with-keyring.sh scripts/with-display.sh npx vitest run --project e2e
set -euo pipefail

for tool in Xvfb xauth dbus-daemon; do
  if ! command -v "$tool" >/dev/null; then
    echo "with-display: $tool not found (sudo apt-get install xvfb xauth dbus-daemon at-spi2-core)" >&2
    exit 1
  fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/mcp-keyproxy-display.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# Waits until a daemon has written a first full line to a file; fails with its log if it dies or takes 20 s (Xvfb
# once took more than 5 s on a machine busy with two test runs).
wait_for_line() { # file pid name log
  for _ in $(seq 1 800); do
    if [ -s "$1" ] && [ "$(wc -l <"$1")" -ge 1 ]; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then break; fi
    sleep 0.025
  done
  echo "with-display: $3 did not start:" >&2
  cat "$4" >&2
  exit 1
}

# AT-SPI finds its bus through the session bus (org.a11y.Bus, D-Bus activated). with-keyring.sh provides one;
# otherwise start a private one here (a direct child, so it is stopped with everything else).
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  dbus-daemon --session --nofork --nosyslog --print-address=3 3>"$dir/bus" 2>"$dir/dbus.log" &
  pids+=($!)
  wait_for_line "$dir/bus" "$!" dbus-daemon "$dir/dbus.log"
  DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$dir/bus")
  export DBUS_SESSION_BUS_ADDRESS
fi

# The server loads every cookie in its -auth file whatever the display number, so the cookie can be written
# before the number is known; clients get an entry for the real number below.
export XAUTHORITY="$dir/Xauthority"
cookie=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
: >"$XAUTHORITY"
xauth -q -f "$XAUTHORITY" add :0 . "$cookie"
# -noreset: by default Xvfb resets whenever its last client disconnects and refuses clients meanwhile, so a
# dialog started just as the previous one exits would fail with "cannot open display".
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset -auth "$XAUTHORITY" 3>"$dir/display" 2>"$dir/xvfb.log" &
# Stop Xvfb first: the D-Bus daemon (if ours) goes last.
pids=($! "${pids[@]}")
wait_for_line "$dir/display" "$!" Xvfb "$dir/xvfb.log"
display=$(head -n1 "$dir/display")
xauth -q -f "$XAUTHORITY" add ":$display" . "$cookie"
export DISPLAY=":$display" GDK_BACKEND=x11
unset WAYLAND_DISPLAY NO_AT_BRIDGE GTK_A11Y

# Run the command in the background so a signal to this script is handled at once (bash runs traps only
# between foreground commands): pass it on, wait for the command to end, then clean up. `<&0` keeps stdin;
# env --default-signal undoes the SIGINT/SIGQUIT ignore that bash gives background commands.
if ! env --default-signal=INT true 2>/dev/null; then
  "$@" # coreutils < 8.31: foreground, so signals reach only the command and cleanup runs when it ends
  exit
fi
env --default-signal=INT,QUIT "$@" <&0 &
child=$!
for signal in TERM INT HUP; do
  trap 'kill -'"$signal"' "$child" 2>/dev/null || true' "$signal"
done
status=0
while :; do
  wait "$child" && status=0 || status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$status"
