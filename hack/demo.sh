#!/usr/bin/env bash
# `make demo`: from a new machine to a Ready Glance on a real Kubernetes control plane.
#
#   1. Python virtualenv and the pinned control-plane binaries (built once from the Go module proxy);
#   2. etcd + kube-apiserver + controller-manager + scheduler + kwok nodes, on 127.0.0.1;
#   3. the dependency player (MariaDB, Keystone, Memcached, RabbitMQ operators' parts) and our operator;
#   4. a sample Glance with two APIs, waited on until Ready, then shown as kubectl shows it.
# Everything keeps running afterwards; `make demo-stop` stops it. State: ~/.cache/glance-operator/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
dir=${DEMO_DIR:-$HOME/.cache/glance-operator/demo}
ns=openstack
sample=${DEMO_SAMPLE:-config/samples/glance_v1beta1_glance_keystone_endpoint.yaml}
t0=$(date +%s)
step() { printf '\n\033[1m==> [%3ss] %s\033[0m\n' "$(($(date +%s) - t0))" "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

step "Python environment"
venv=$(hack/venv.sh)
go="$venv/bin/glance-operator"

step "Control-plane binaries (built once; about 17 min on 2 cores the first time)"
bash hack/build-control-plane.sh >/dev/null
kubectl=$("$venv/bin/python" -c 'from glance_operator.testing.binaries import Binaries; print(Binaries.pinned().kubectl)')

bash hack/demo-stop.sh >/dev/null 2>&1 || true
mkdir -p "$dir"
step "Starting the control plane (logs: $dir/logs)"
webhook_port=$("$venv/bin/python" -c 'from glance_operator.testing.processes import free_port; print(free_port())')
setsid nohup "$venv/bin/python" -m glance_operator.testing up --dir "$dir" --no-build --webhook-port "$webhook_port" \
  >"$dir/up.log" 2>&1 &
echo $! >"$dir/up.pid"
export KUBECONFIG=$dir/kubeconfig
for _ in $(seq 1 600); do  # poll: the control plane prints its KUBECONFIG line once every component is ready
  grep -q '^export KUBECONFIG=' "$dir/up.log" 2>/dev/null && break
  kill -0 "$(cat "$dir/up.pid")" 2>/dev/null || die "the control plane did not start: $(tail -5 "$dir/up.log")"
  sleep 0.2
done
grep -q '^export KUBECONFIG=' "$dir/up.log" || die "the control plane did not become ready in 120 s"
grep 'control plane up' "$dir/up.log" | sed 's/^/    /'

step "Starting the dependency player and the operator (logs: $dir/deps.log, $dir/operator.log)"
"$kubectl" create namespace "$ns" >/dev/null
setsid nohup "$go" dev deps --kubeconfig "$KUBECONFIG" -n "$ns" >"$dir/deps.log" 2>&1 &
echo $! >"$dir/deps.pid"
setsid nohup "$go" run --kubeconfig "$KUBECONFIG" --namespace "$ns" --health-probe-bind-address 127.0.0.1:0 \
  --metrics-bind-address 127.0.0.1:0 --webhook-host 127.0.0.1 --webhook-port "$webhook_port" \
  --webhook-cert-dir "$dir/webhook-certs" \
  >"$dir/operator.log" 2>&1 &
echo $! >"$dir/operator.pid"

step "Applying the service password Secret and $sample"
"$kubectl" -n "$ns" create secret generic osp-secret --from-literal=GlancePassword=demo-password >/dev/null
# The apiserver calls our admission webhooks: defaults filled in, bad input refused with its field.
for _ in $(seq 1 150); do  # poll: the webhook server answers once the operator is up
  "$kubectl" -n "$ns" apply --dry-run=server -f "$sample" >/dev/null 2>&1 && break
  sleep 0.2
done
"$kubectl" -n "$ns" apply -f "$sample"

step "Waiting until the Glance is Ready"
if ! "$kubectl" -n "$ns" wait glance/glance --for=condition=Ready --timeout=180s >/dev/null; then
  "$kubectl" -n "$ns" get glance,glanceapi -o wide
  die "not Ready after 180 s; see $dir/operator.log"
fi

step "A broken Glance is refused by the apiserver, through our validating webhook"
"$kubectl" -n "$ns" apply -f - <<'YAML' || true
apiVersion: glance.openstack.org/v1beta1
kind: Glance
metadata: {name: broken}
spec:
  databaseInstance: openstack
  secret: osp-secret
  keystoneEndpoint: edge1
  customServiceConfig: |
    [DEFAULT]
    enabled_backend = default_backend:file
  glanceAPIs:
    default: {type: split, replicas: 3}
    edge1: {type: edge, replicas: 1}
YAML

step "kubectl get glance,glanceapi"
"$kubectl" -n "$ns" get glance,glanceapi -o wide
step "What the operator created"
"$kubectl" -n "$ns" get statefulsets,pods,services,persistentvolumeclaims,jobs,cronjobs,secrets,keystoneendpoints,keystoneservices,mariadbdatabases,mariadbaccounts
step "Status the rest of the control plane reads"
"$kubectl" -n "$ns" get glance glance -o jsonpath='{.status.apiEndpoint}{"\n"}{.status.glanceAPIReadyCounts}{"\n"}'

cat <<EOF

Ready in $(($(date +%s) - t0)) s. Everything keeps running:

  export KUBECONFIG=$KUBECONFIG
  $kubectl -n $ns get glance,glanceapi
  $kubectl -n $ns apply -f config/samples/glance_v1beta1_glance_image_cache.yaml   # other samples: config/samples/
  $go render -f $sample                                          # what the operator creates, offline
  tail -f $dir/operator.log                                      # one JSON line per event

Stop everything with: make demo-stop
EOF
