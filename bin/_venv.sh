# Sourced by bin/demo and bin/test: make sure .venv exists with the pinned dependencies.
# The installer is uv (pinned below, decision 0018): it creates the venv in milliseconds (pip's
# `python -m venv` spends seconds in ensurepip) and downloads and installs the wheels in parallel.
# uv itself is installed once with pip into a cache folder outside the checkout. pip does it all
# (`python -m venv`, `pip install`) when uv cannot be had or fails, or with OTC_INSTALLER=pip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
UV_VERSION=0.13.8
UV_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/otc/uv-$UV_VERSION"
STAMP=.venv/.otc-installed

otc_uv() {  # prints the path of the pinned uv, installing it first; fails when it cannot be had
  [ "${OTC_INSTALLER:-uv}" = uv ] || return 1
  if [ ! -x "$UV_DIR/bin/uv" ]; then
    "$PY" -m pip install -q --disable-pip-version-check --target "$UV_DIR" "uv==$UV_VERSION" >/dev/null 2>&1 \
      || { rm -rf "$UV_DIR"; return 1; }
  fi
  echo "$UV_DIR/bin/uv"
}

if [ ! -x .venv/bin/python ] || [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "==> installing dependencies (pinned in pyproject.toml) into .venv with $($PY --version)"
  REQUIREMENTS="$("$PY" - <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["dev"]))
PY
)"
  installed=0
  if UV="$(otc_uv)"; then
    export UV_PYTHON_DOWNLOADS=never  # the system's Python, never one downloaded by uv
    if { [ -x .venv/bin/python ] || "$UV" venv -q --seed --python "$(command -v "$PY")" .venv; } \
      && printf '%s\n' "$REQUIREMENTS" > .venv/requirements.txt \
      && "$UV" pip install -q --python .venv/bin/python -r .venv/requirements.txt; then
      installed=1
    else
      echo "==> uv did not install the dependencies: pip installs them"
    fi
  fi
  if [ "$installed" = 0 ]; then
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    printf '%s\n' "$REQUIREMENTS" > .venv/requirements.txt
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -r .venv/requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
  fi
  .venv/bin/python -c "import django, rest_framework, weasyprint, pytest"
  touch "$STAMP"
fi
