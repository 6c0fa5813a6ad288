#!/usr/bin/env bash
# The whole check: lint, format, types, import contracts, then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
ruff check src tests bench tools
ruff format --check src tests bench tools
mypy
lint-imports
python -m pytest -n 2 "$@"
