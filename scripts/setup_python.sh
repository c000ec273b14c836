#!/usr/bin/env bash
# Creates .venv with the test tools of requirements-dev.txt (pytest, Playwright for
# Python, ruff) unless it is already up to date. Called by `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.requirements-dev.txt
if [ -x .venv/bin/python ] && cmp -s requirements-dev.txt "$stamp"; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
cp requirements-dev.txt "$stamp"
