#!/usr/bin/env bash
# The suite against today's newest releases that pyproject.toml's ranges allow, in a venv
# of its own (.venv-newest), so drift in a dependency shows up in a deliberate run instead
# of an unrelated commit. The locked run is README's test command; this is its twin.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-newest
.venv-newest/bin/python -m pip install -q --upgrade --upgrade-strategy eager -e '.[dev]'
SEGMAP_UNLOCKED=1 .venv-newest/bin/python -m pytest -q "$@"
