#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for symgraph: Graphviz's `dot` (for SVG output)
# and the package itself with its test extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if ! command -v dot >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
  else
    echo "setup: Graphviz's 'dot' is missing and apt-get is not available;" \
         "install Graphviz (brew install graphviz / conda install graphviz)" >&2
  fi
fi
# Headless Chromium and its driver for the HTML explorer's browser tests (optional: the
# tests skip without them).
if ! command -v chromedriver >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
    || echo "setup: chromium/chromium-driver not installed; browser tests will skip" >&2
fi
if ! python3 -m pip --version >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-pip >/dev/null
fi
install() { python3 -m pip install -q --disable-pip-version-check "$@" -e ".[test,all]"; }
log=$(mktemp)
if ! install 2>"$log"; then
  if grep -q externally-managed "$log"; then
    # Debian's own Python refuses pip installs outside a virtual environment (PEP 668);
    # the two README commands run with plain python3, so install next to it anyway.
    echo "setup: this Python is externally managed; installing with --break-system-packages" >&2
    install --break-system-packages
  else
    cat "$log" >&2
    exit 1
  fi
fi
