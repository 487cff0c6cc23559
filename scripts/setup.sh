#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for symgraph: Graphviz's `dot` (for SVG output)
# and the package itself with its test extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dot >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
  else
    echo "setup: Graphviz's 'dot' is missing and apt-get is not available;" \
         "install Graphviz (brew install graphviz / conda install graphviz)" >&2
  fi
fi
python3 -m pip install -q --disable-pip-version-check -e ".[test,examples]"
