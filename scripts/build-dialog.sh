#!/usr/bin/env bash
# Builds the Linux native dialog (GTK 3 + json-glib) into native-dialog/linux/build/keyproxy-dialog.
# Usage: scripts/build-dialog.sh [--if-possible]   (or: npm run build:dialog)
#   --if-possible  for `npm install` in a git clone (the prepare script): when this is not Linux, the build tools
#                  or libraries are missing, or the compiler fails, say so in one line and exit 0, so the install
#                  goes on (the proxy then uses zenity, or says no dialog can be shown). Never used by the npm
#                  package's own install: the tarball ships the built dialog and runs no install script.
# Works the same from the installed npm package: bash node_modules/mcp-keyproxy/scripts/build-dialog.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/native-dialog/linux/keyproxy-dialog.c"
out="$root/native-dialog/linux/build/keyproxy-dialog"
optional=false
[ "${1:-}" = "--if-possible" ] && optional=true
packages="gcc pkg-config libgtk-3-dev libjson-glib-dev"

# Exits with the problem: 1 for a build that was asked for, 0 (with a note) for --if-possible.
give_up() {
  if $optional; then
    echo "build-dialog: the GTK dialog was not built ($1). The proxy uses zenity if it is installed. To build it later:" \
      "sudo apt-get install $packages && bash $root/scripts/build-dialog.sh" >&2
    exit 0
  fi
  echo "build-dialog: $1." >&2
  echo "  Install the build tools and libraries: sudo apt-get install $packages (Fedora: gcc pkgconf gtk3-devel json-glib-devel)" >&2
  exit 1
}

if [ "$(uname -s)" != "Linux" ]; then
  $optional && exit 0 # macOS and Windows dialogs need no build
  give_up "the GTK dialog is for Linux; this is $(uname -s)"
fi
for tool in gcc pkg-config; do
  command -v "$tool" >/dev/null || give_up "$tool not found"
done
pkg-config --exists gtk+-3.0 json-glib-1.0 || give_up "pkg-config cannot find gtk+-3.0 and json-glib-1.0"

mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2046 # pkg-config output is a list of flags and must be split
if ! gcc -std=gnu11 -O2 -Wall -Wextra -Werror=implicit-function-declaration -o "$out.tmp" "$src" \
  $(pkg-config --cflags --libs gtk+-3.0 json-glib-1.0); then
  rm -f "$out.tmp"
  give_up "gcc failed (see above)"
fi
strip "$out.tmp" 2>/dev/null || true
mv "$out.tmp" "$out"
echo "build-dialog: built $out" >&2
