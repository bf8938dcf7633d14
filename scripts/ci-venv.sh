#!/usr/bin/env bash
# Creates (or brings up to date) the Python virtualenv with the CI's checkers:
# target/ci-venv, with the packages pinned in scripts/ci-requirements.txt.
# Idempotent and quick when nothing changed. Prints nothing but pip's errors.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CI_VENV:-$ROOT/target/ci-venv}"
REQUIREMENTS="$ROOT/scripts/ci-requirements.txt"
STAMP="$VENV/.requirements"

if [[ -x "$VENV/bin/python" ]] && cmp -s "$REQUIREMENTS" "$STAMP"; then
    exit 0
fi

echo "==> setting up $VENV" >&2
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
cp "$REQUIREMENTS" "$STAMP"
