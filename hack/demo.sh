#!/usr/bin/env bash
# `make demo`: install what is needed, then show the operator's offline path on the samples:
# each sample Glance is defaulted and validated exactly as the apiserver and our webhooks would,
# and one deliberately broken object is rejected with the field named.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(hack/venv.sh)
go=$venv/bin/glance-operator
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Generating the CRDs from the API models (config/crd/bases)"
"$go" crds -o config/crd/bases

step "Validating every sample in config/samples"
ok=0
for f in config/samples/glance_v1beta1_*.yaml; do
  if "$go" validate -q -f "$f" 2>/dev/null; then ok=$((ok + 1)); echo "  ok   $f"; else echo "  FAIL $f"; "$go" validate -q -f "$f" || true; exit 1; fi
done
echo "  $ok samples accepted"

step "The file-backend sample as it would be stored (defaults filled in)"
"$go" validate -f config/samples/glance_v1beta1_glance_file.yaml 2>/dev/null | sed -n '1,60p'

step "A broken Glance is rejected with the field named"
"$go" validate -f - <<'YAML' || true
apiVersion: glance.openstack.org/v1beta1
kind: Glance
metadata: {name: glance, namespace: openstack}
spec:
  databaseInstance: openstack
  secret: osp-secret
  keystoneEndpoint: edge1
  glanceAPIs:
    default: {type: split, replicas: 3}
    edge1: {type: edge, replicas: 1, replcas: 2}
YAML
