#!/usr/bin/env bash
# Stop what `make demo` started (operator, dependency player, control plane), by pid file.
set -uo pipefail
dir=${DEMO_DIR:-$HOME/.cache/glance-operator/demo}
for name in operator deps up; do
  pidfile=$dir/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done  # poll: wait for exit
    kill -KILL "$pid" 2>/dev/null || true
    echo "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
done
