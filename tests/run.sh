#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run the whole suite:
# ruff, mypy --strict, import contracts, and pytest (unit, catalogue on SQLite and PostgreSQL,
# web, CLI and browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need_apt+=(fonts-noto-cjk)
dpkg -s libmagic1 >/dev/null 2>&1 || need_apt+=(libmagic1)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'
# iiif-prezi3 (the Presentation 3.0 model the IIIF tests validate against) pins Pillow<=12.0.0;
# installed without its dependencies so it cannot downgrade our Pillow, and its real runtime
# needs (pydantic 2, requests) pinned beside it.
python3 -m pip install -q --disable-pip-version-check --no-deps 'iiif-prezi3==3.1.1'
python3 -m pip install -q --disable-pip-version-check 'pydantic==2.13.4' 'requests==2.34.2'

echo "== ruff";          python3 -m ruff check .
echo "== mypy";          python3 -m mypy
echo "== import-linter"; lint-imports
echo "== pytest";        python3 -m pytest -q "$@"
