# Sourced by bin/demo and bin/test: make sure .venv exists with the pinned dependencies.
# The installer is uv (pinned below; it downloads and installs the wheels in parallel, decision 0018),
# installed with pip into .venv; pip installs everything itself when uv cannot be had or fails, or
# when OTC_INSTALLER=pip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
UV_VERSION=0.13.8
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
STAMP=.venv/.otc-installed
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "==> installing dependencies (pinned in pyproject.toml)"
  .venv/bin/python - > .venv/requirements.txt <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["dev"]))
PY
  installed=0
  if [ "${OTC_INSTALLER:-uv}" = uv ]; then
    if [ ! -x .venv/bin/uv ]; then
      .venv/bin/python -m pip install -q "uv==$UV_VERSION" 2>&1 | grep -v "^WARNING: Location" || true
    fi
    if [ -x .venv/bin/uv ] && .venv/bin/uv pip install -q --python .venv/bin/python -r .venv/requirements.txt; then
      installed=1
    else
      echo "==> uv did not install the dependencies: pip installs them"
    fi
  fi
  if [ "$installed" = 0 ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -r .venv/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
  fi
  .venv/bin/python -c "import django, rest_framework, weasyprint, pytest"
  touch "$STAMP"
fi
