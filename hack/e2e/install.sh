#!/usr/bin/env bash
# Install what the e2e suite (tests/e2e) runs against, idempotently, and print the e2e venv path.
#
# - Debian packages mariadb-server and rabbitmq-server (apt-get install when missing; their own start steps
#   are refused or unused here: the harness starts both by hand on loopback with state in a temp dir).
# - A virtualenv with Glance 33, Keystone 30, uWSGI and the clients the tests use, cached under
#   ~/.cache/glance-operator/e2e/venv-<key>, keyed by the requirement set, the constraints file and the
#   interpreter (uWSGI is compiled against it: glance-runtime.md pitfall 19). Reused when present.
# - When the venv must be built: what compiling uWSGI needs (gcc, libc6-dev, the interpreter's Python headers)
#   and what `python -m venv` needs (ensurepip). Debian packages are installed when missing and the interpreter
#   is Debian's (python3.X-dev, python3.X-venv); for another interpreter (pyenv, ...) a missing piece is an
#   error saying what to install. E2E_PYTHON picks the interpreter (default python3.11, else python3).
# apt-get runs directly as root, through `sudo -n` otherwise; without either, the script stops and names the
# missing packages. Transient registry errors are retried 3 times. Progress goes to stderr, the venv path to
# stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cache=${GLANCE_OPERATOR_CACHE:-$HOME/.cache/glance-operator}/e2e
constraints="$here/tests/e2e/constraints.txt"
# Store drivers' libraries, to load each driver with the rendered config (tests/e2e/test_store_drivers.py):
# Swift (python-swiftclient), Cinder (os-brick, python-cinderclient), S3 (boto3, installed --no-deps below:
# botocore declares python-dateutil<3 while the verified set has 4.0.0, and pip backtracks for many minutes on
# that), RBD (python3-rados/python3-rbd from Debian: the bindings are not on PyPI; linked into the venv).
# Pinned: the store drivers' option lists feed the committed option catalogue, which
# tests/e2e/test_option_catalogue.py regenerates from this venv and compares byte for byte.
requirements=(
  'glance==33.0.0' 'keystone==30.0.0' 'uwsgi==2.0.31'
  'python-swiftclient==4.11.0' 'os-brick==7.1.1' 'python-cinderclient==9.10.0'
  'PyMySQL' 'requests'
)
no_deps=('boto3==1.44.8' 'botocore==1.44.8' 's3transfer==0.19.3')
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

die() { echo "hack/e2e/install.sh: $*" >&2; exit 1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

command -v "$py" >/dev/null 2>&1 || die "no Python interpreter ($py) found; set E2E_PYTHON"
key=$( { printf '%s\n' "${requirements[@]}" "${no_deps[@]}"; cat "$constraints"; "$py" -c 'import sys; print(sys.version, sys.prefix)'; } \
  | sha256sum | cut -c1-12)
venv="$cache/venv-$key"

# --- Debian packages --------------------------------------------------------------------------
command -v dpkg-query >/dev/null 2>&1 || die "needs a Debian-based system (dpkg-query/apt-get not found)"
missing=()
for pkg in mariadb-server rabbitmq-server python3-rados python3-rbd; do
  installed "$pkg" || missing+=("$pkg")
done
if [ ! -f "$venv/.ready" ]; then
  # building uWSGI from source (pitfall 19): a C compiler, libc headers, the interpreter's Python headers
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  installed libc6-dev || missing+=(libc6-dev)
  pyver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  pyexe=$("$py" -c 'import os, sys; print(os.path.realpath(sys.executable))')
  debian_py=false
  dpkg-query -S "$pyexe" >/dev/null 2>&1 && debian_py=true
  if ! "$py" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    $debian_py || die "$pyexe has no Python headers (Python.h), needed to build uWSGI; install them or set E2E_PYTHON"
    missing+=("python$pyver-dev")
  fi
  if ! "$py" -c 'import ensurepip' >/dev/null 2>&1; then
    $debian_py || die "$pyexe cannot create virtualenvs (no ensurepip); install it or set E2E_PYTHON"
    missing+=("python$pyver-venv")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt=(apt-get)
  elif command -v sudo >/dev/null 2>&1; then
    apt=(sudo -n apt-get)
    sudo -n true 2>/dev/null || die "not root and sudo asks for a password; install first: ${missing[*]}"
  else
    die "not root and no sudo; install these Debian packages first: ${missing[*]}"
  fi
  echo "installing Debian packages: ${missing[*]}" >&2
  retry "${apt[@]}" update -q >&2
  # no init system: the packages' start steps are refused (policy-rc.d) or fail harmlessly
  retry env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install failed for: ${missing[*]}"
fi

# --- Python virtualenv ------------------------------------------------------------------------
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
