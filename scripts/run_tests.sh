#!/usr/bin/env bash
# `npm test` (after `pretest` has installed node modules, built dist/ and set up .venv):
# lint (ruff and ESLint: `npm run lint`), then every test: unit tests of the package
# (tests/py) and browser tests of the built site in Chromium (tests/e2e). Extra arguments
# go to pytest, e.g. `npm test -- -k share`.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent lint
.venv/bin/python -m pytest "$@"
