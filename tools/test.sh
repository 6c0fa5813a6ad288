#!/usr/bin/env bash
# The whole check: lint, format, types, import contracts, then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tools are called by path: the environment's bin also holds pynetdicom's storescu,
# findscu... which must not shadow dcmtk's on PATH.
bin=.venv/bin
"$bin/ruff" check src tests bench tools
"$bin/ruff" format --check src tests bench tools
"$bin/mypy"
"$bin/lint-imports"
"$bin/python" -m pytest -n 2 "$@"
