#!/usr/bin/env bash
# What a shadow variant costs the caller: median latency at 1,000 req/s of an endpoint whose
# production variant is shadowed at 100%, against the same endpoint without a shadow, in one
# environment (Benchmarks/latency.py --interleave: requests alternate between the two endpoints
# in one paced run, 5,000 each, 3 rounds).
# Usage: Benchmarks/shadow_latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/mlgw-deploy
WORK=$(mktemp -d)
export MLGW_STATE_DIR="$WORK/state"
STACK="$WORK/shadow.yaml"
cat > "$STACK" <<YAML
stack: bench-shadow
models:
  m1: {runtime: linear, artifact: $PWD/examples/models/churn-v1.json}
  m2: {runtime: linear, artifact: $PWD/examples/models/churn-v2.json}
endpoints:
  plain:
    variants: {live: {model: m1}}
  shadowed:
    variants:
      live: {model: m1}
      candidate: {model: m2, shadow: true}
YAML
trap '"$BIN" destroy "$STACK" --auto-approve >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$BIN" apply "$STACK" --auto-approve >/dev/null
URL=$("$BIN" output "$STACK" aws_endpoint_url)
for _ in 1 2 3; do
  python3 Benchmarks/latency.py --interleave 1000 5000 "$URL/endpoints/plain/invocations" "$URL/endpoints/shadowed/invocations"
done > "$WORK/lat.jsonl"
python3 - "$WORK/lat.jsonl" "$("$BIN" report shadow "$STACK" --json)" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
plain = statistics.median(r["median_ms"] for r in rows if r["url"].endswith("/plain/invocations"))
shadowed = statistics.median(r["median_ms"] for r in rows if r["url"].endswith("/shadowed/invocations"))
compared = json.loads(sys.argv[2])[0]["comparison"]["compared"]
print(f"median latency at 1,000 req/s: without shadow {plain:.3f} ms, with a 100% shadow {shadowed:.3f} ms "
      f"-> {100 * (shadowed / plain - 1):+.1f}% (target <= +5%); shadow copies compared: {compared}")
PY
