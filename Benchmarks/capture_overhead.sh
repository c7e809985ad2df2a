#!/usr/bin/env bash
# Throughput through the endpoint with 100% data capture (input and output) against the same
# endpoint without capture, in one environment: wrk -t2 -c32, alternating, 3 rounds each.
# Usage: Benchmarks/capture_overhead.sh [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-5}
BIN=.build/release/mlgw-deploy
WORK=$(mktemp -d)
export MLGW_STATE_DIR="$WORK/state"
STACK="$WORK/capture.yaml"
cat > "$STACK" <<YAML
stack: bench-capture
models:
  m: {runtime: linear, artifact: $PWD/examples/models/churn-v1.json}
endpoints:
  plain:
    variants: {only: {model: m}}
  captured:
    data_capture: {sample_percent: 100, capture: [input, output]}
    variants: {only: {model: m}}
YAML
trap '"$BIN" destroy "$STACK" --auto-approve >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$BIN" apply "$STACK" --auto-approve >/dev/null
URL=$("$BIN" output "$STACK" aws_endpoint_url)
rps() { wrk -t2 -c32 -d"${DURATION}s" -s Benchmarks/post.lua "$URL/endpoints/$1/invocations" | awk '/Requests\/sec/ {print $2}'; }
rps plain >/dev/null
off=(); on=()
for _ in 1 2 3; do off+=("$(rps plain)"); on+=("$(rps captured)"); done
python3 - "${off[*]}" "${on[*]}" "$("$BIN" status "$STACK" --json)" <<'PY'
import json, statistics, sys
off = [float(x) for x in sys.argv[1].split()]; on = [float(x) for x in sys.argv[2].split()]
status = json.loads(sys.argv[3])["host"]["endpoints"]
captured = next(e for e in status if e["name"] == "captured")
print(f"capture off: {statistics.median(off):.0f} req/s, capture on (100%, input+output): {statistics.median(on):.0f} req/s "
      f"-> {statistics.median(on)/statistics.median(off):.2f} (target >= 0.90); records {captured['captured']}, dropped {captured['captureDropped']}")
PY
