#!/usr/bin/env bash
# The main job on the embedded defaults: build the real test image (Debian bookworm + an npm application,
# without a Docker engine) and write its SBOM. Run `bash scripts/setup.sh` once before.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli/main.js ] || npm run build >/dev/null
images=$(bash scripts/test-images.sh)
node bin/palisade.js sbom "oci:$images/npm-app/oci:app" --format table
