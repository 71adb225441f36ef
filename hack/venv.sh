#!/usr/bin/env bash
# Ensure the project's virtualenv exists and print its path.
# The venv is keyed by the dependency list, cached under ~/.cache/glance-operator/ so that
# fresh clones (CI) reuse it; the project itself is installed editable from this checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${GLANCE_OPERATOR_CACHE:-$HOME/.cache/glance-operator}
# key on the dependency lists only, so editing tool settings does not rebuild the venv
key=$(python3 -c 'import sys,tomllib,json,hashlib; p=tomllib.load(open(sys.argv[1],"rb"))["project"]; print(hashlib.sha256(json.dumps([p["dependencies"],p.get("optional-dependencies")]).encode()).hexdigest()[:12])' "$here/pyproject.toml")
venv="$cache/venv/$key"
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python3
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.ready" ]; then
  echo "creating virtualenv $venv" >&2
  rm -rf "$venv"
  mkdir -p "$cache/venv"
  "$py" -m venv "$venv" >&2
  for attempt in 1 2 3; do
    if "$venv/bin/pip" install -q --upgrade pip setuptools wheel >&2 &&
       "$venv/bin/pip" install -q -e "$here[dev]" >&2; then
      touch "$venv/.ready"; break
    fi
    echo "pip install failed (attempt $attempt), retrying" >&2; sleep $((attempt * 5))
  done
  [ -f "$venv/.ready" ] || { echo "could not install Python dependencies" >&2; exit 1; }
fi
# Point the editable install at this checkout (a cached venv may come from another clone).
if ! "$venv/bin/python" -c 'import glance_operator,sys,os; sys.exit(0 if os.path.dirname(os.path.dirname(glance_operator.__file__))==sys.argv[1] else 1)' "$here" 2>/dev/null; then
  "$venv/bin/pip" install -q --no-deps --no-build-isolation -e "$here" >&2
fi
echo "$venv"
