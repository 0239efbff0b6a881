#!/usr/bin/env bash
# The main job on the embedded defaults: build the real test images (Debian bookworm + an npm application, without
# a Docker engine), load a vulnerability DB from the real OSV/GHSA advisories shipped in test/fixtures, and scan the
# application image for vulnerabilities, secrets and configuration defects. Run `bash scripts/setup.sh` once before.
# With a clamd running, set PALISADE_CLAMD=tcp://127.0.0.1:3310 to add malware scanning.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli/main.js ] || npm run build >/dev/null
images=$(bash scripts/test-images.sh)
db="${PALISADE_DEMO_DB:-$(dirname "$images")/demo-vuln.db}"
fixtures=test/fixtures/vuln/db
node bin/palisade.js db import --fresh --quiet --db "$db" "$fixtures/ghsa-npm" "$fixtures/debian-osv" "$fixtures/alpine-secdb" >&2
node bin/palisade.js scan "oci:$images/npm-app/oci:app" --db "$db"
