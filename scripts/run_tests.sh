#!/usr/bin/env bash
# `npm test` (after `pretest` has installed node modules, built dist/ and set up .venv):
# lint (ruff and ESLint: `npm run lint`), then every test:
#   1. the unit tests of the package (tests/py), on every core (pytest-xdist);
#   2. the browser tests of the built site in Chromium (tests/e2e, pytest and Playwright)
#      that measure no time, on every core, each test module in one process (a module's
#      fixtures, such as the lessons page, start once; tests/e2e/conftest.py);
#   3. the browser tests marked `timed` (they check the page's long tasks), one at a
#      time: beside another browser, they would measure that browser;
#   4. the same site in Firefox and WebKit (tests/browsers, Node's test runner:
#      puppeteer-core and selenium-webdriver), two test files at a time (package.json).
# Every part runs even if one before it failed; the exit status says whether all passed.
# Extra arguments go to pytest and run only pytest, in one process, e.g. `npm test -- -k
# share`; `npm run test:browsers` runs only the last part.
set -uo pipefail
cd "$(dirname "$0")/.."
npm run --silent lint || exit 1
pytest=(.venv/bin/python -m pytest)
if [ $# -gt 0 ]; then
  exec "${pytest[@]}" "$@"
fi
cores=(-n auto --maxprocesses 4)  # a process per core, at most 4: each e2e process runs a Chromium of its own
failed=0
# worksteal: a process with no tests left takes some of the other's, so the long tests
# that happen to come last do not leave a core idle (36.5 s instead of 39.7 s, medians of
# four alternating runs).
"${pytest[@]}" tests/py "${cores[@]}" --dist worksteal || failed=1
"${pytest[@]}" tests/e2e -m "not timed" "${cores[@]}" --dist loadfile --no-loadscope-reorder || failed=1
"${pytest[@]}" tests/e2e -m timed || failed=1
npm run --silent test:browsers || failed=1
exit $failed
