#!/usr/bin/env bash
# Builds the Linux native dialog (GTK 3 + json-glib) into native-dialog/linux/build/keyproxy-dialog.
# Usage: scripts/build-dialog.sh   (or: npm run build:dialog)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/native-dialog/linux/keyproxy-dialog.c"
out="$root/native-dialog/linux/build/keyproxy-dialog"

for tool in gcc pkg-config; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-dialog: $tool not found. Install it: sudo apt-get install gcc pkg-config libgtk-3-dev libjson-glib-dev" >&2
    exit 1
  fi
done
if ! pkg-config --exists gtk+-3.0 json-glib-1.0; then
  echo "build-dialog: pkg-config cannot find gtk+-3.0 and json-glib-1.0." >&2
  echo "  Install the development packages: sudo apt-get install libgtk-3-dev libjson-glib-dev" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2046 # pkg-config output is a list of flags and must be split
gcc -std=gnu11 -O2 -Wall -Wextra -Werror=implicit-function-declaration -o "$out.tmp" "$src" \
  $(pkg-config --cflags --libs gtk+-3.0 json-glib-1.0)
strip "$out.tmp" 2>/dev/null || true
mv "$out.tmp" "$out"
echo "build-dialog: built $out" >&2
