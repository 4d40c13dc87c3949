#!/usr/bin/env bash
# The test command: installs what a fresh machine lacks, builds, lints, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
npm run build --silent
npm run lint --silent
npx mocha --config .mocharc.json 'dist/test/**/*.test.js' "$@"
