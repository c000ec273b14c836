#!/usr/bin/env bash
# `npm test` (after `pretest` has installed node modules, built dist/ and set up .venv):
# lint (ruff and ESLint: `npm run lint`), then every test: unit tests of the package
# (tests/py), browser tests of the built site in Chromium (tests/e2e, pytest and
# Playwright), then the same site in Firefox and WebKit (tests/browsers, Node's test
# runner: puppeteer-core and selenium-webdriver). Extra arguments go to pytest and run
# only pytest, e.g. `npm test -- -k share`; `npm run test:browsers` runs only the last part.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent lint
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ]; then
  npm run --silent test:browsers
fi
