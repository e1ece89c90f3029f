#!/usr/bin/env bash
# Refresh requirements/lock.txt: exact versions of every runtime dependency and every extra (dev, ...) of
# pyproject.toml, transitive ones included, for every platform and Python >= 3.11.
#
#   tools/lock.sh                      add what pyproject.toml gained, keep every other pin
#   tools/lock.sh --upgrade            move every pin to the newest release the ranges allow
#   tools/lock.sh --upgrade-package X  move X alone
#
# The resolver is uv (pinned below, kept in .venv-tools/, a dev-time tool only); the lock it
# writes is a plain requirements file that pip installs (README: "Set up and run").
set -euo pipefail
cd "$(dirname "$0")/.."
uv_version=0.13.9
uv=.venv-tools/bin/uv
if ! "$uv" --version 2>/dev/null | grep -qx "uv $uv_version.*"; then
  python3 -m venv .venv-tools
  .venv-tools/bin/python -m pip install -q "uv==$uv_version"
fi
"$uv" pip compile pyproject.toml --all-extras --universal --python-version 3.11 --quiet \
  --custom-compile-command tools/lock.sh -o requirements/lock.txt "$@"
echo "requirements/lock.txt: $(grep -c '^[A-Za-z0-9]' requirements/lock.txt) pinned packages"
