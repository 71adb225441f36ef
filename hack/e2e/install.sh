#!/usr/bin/env bash
# Install what the e2e suite (tests/e2e) runs against, idempotently, and print the e2e venv path.
#
# - Debian packages mariadb-server and rabbitmq-server (apt-get install when missing; their own start steps
#   are refused or unused here: the harness starts both by hand on loopback with state in a temp dir).
# - A virtualenv with Glance 33, Keystone 30, uWSGI and the clients the tests use, cached under
#   ~/.cache/glance-operator/e2e/venv-<key>, keyed by the requirement set, the constraints file and the
#   interpreter (uWSGI is compiled against it: glance-runtime.md pitfall 19). Reused when present.
# Transient registry errors are retried 3 times. Progress goes to stderr, the venv path to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cache=${GLANCE_OPERATOR_CACHE:-$HOME/.cache/glance-operator}/e2e
constraints="$here/tests/e2e/constraints.txt"
# Store drivers' libraries, to load each driver with the rendered config (tests/e2e/test_store_drivers.py):
# Swift (python-swiftclient), Cinder (os-brick, python-cinderclient), S3 (boto3, installed --no-deps below:
# botocore declares python-dateutil<3 while the verified set has 4.0.0, and pip backtracks for many minutes on
# that), RBD (python3-rados/python3-rbd from Debian: the bindings are not on PyPI; linked into the venv).
requirements=(
  'glance==33.0.0' 'keystone==30.0.0' 'uwsgi==2.0.31'
  'python-swiftclient' 'os-brick' 'python-cinderclient'
  'PyMySQL' 'requests'
)
no_deps=('boto3' 'botocore' 's3transfer')
py=${E2E_PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python3

retry() {  # retry a command 3 times with backoff (registry hiccups)
  local attempt
  for attempt in 1 2 3; do
    "$@" && return 0
    echo "failed (attempt $attempt): $*" >&2
    sleep $((attempt * 5))
  done
  return 1
}

# --- Debian packages --------------------------------------------------------------------------
missing=()
for pkg in mariadb-server rabbitmq-server python3-rados python3-rbd; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  retry apt-get update -q >&2
  # no init system: the packages' start steps are refused (policy-rc.d) or fail harmlessly
  retry env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# --- Python virtualenv ------------------------------------------------------------------------
key=$( { printf '%s\n' "${requirements[@]}" "${no_deps[@]}"; cat "$constraints"; "$py" -c 'import sys; print(sys.version, sys.prefix)'; } \
  | sha256sum | cut -c1-12)
venv="$cache/venv-$key"
if [ ! -f "$venv/.ready" ]; then
  echo "creating e2e virtualenv $venv (a few minutes the first time)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv" >&2
  retry "$venv/bin/pip" install -q -U pip >&2
  # uWSGI is built from source against this interpreter; never reuse a wheel built for another one
  retry "$venv/bin/pip" install -q --no-cache-dir -c "$constraints" 'uwsgi==2.0.31' >&2
  retry "$venv/bin/pip" install -q -c "$constraints" "${requirements[@]}" >&2
  retry "$venv/bin/pip" install -q --no-deps "${no_deps[@]}" >&2
  "$venv/bin/pip" check >&2 || echo "(expected: botocore's python-dateutil pin, see above)" >&2
  # Debian's Ceph bindings (built for python3.11's ABI) for the rbd driver
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  for mod in /usr/lib/python3/dist-packages/rados*.so /usr/lib/python3/dist-packages/rbd*.so; do
    [ -e "$mod" ] && ln -sf "$mod" "$site/"
  done
  "$venv/bin/pip" freeze > "$venv/freeze.txt"
  touch "$venv/.ready"
fi
echo "$venv"
