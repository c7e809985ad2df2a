#!/usr/bin/env bash
# The endpoint path: throughput at saturation (wrk -t2 -c32) and median latency at 1,000 req/s,
# for the same model server called directly, through nginx as a reverse proxy (keep-alive
# upstream), and through the environment's AWS URL (router). Needs wrk and nginx (Debian).
# Usage: Benchmarks/router.sh [seconds per wrk run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
source Benchmarks/common.sh
bench_environment Benchmarks/stacks/router.yaml
"$BIN" apply Benchmarks/stacks/router.yaml --auto-approve >/dev/null
read -r AWS MODEL < <("$BIN" status Benchmarks/stacks/router.yaml --json | python3 -c '
import json, sys
h = json.load(sys.stdin)["host"]
print(h["awsPort"], h["endpoints"][0]["variants"][0]["instances"][0]["port"])')
start_nginx_proxy "$MODEL"
direct="http://127.0.0.1:$MODEL/invocations"
proxied="http://127.0.0.1:$NGINX_PORT/invocations"
router="http://127.0.0.1:$AWS/endpoints/bench/invocations"
rps() { wrk -t2 -c32 -d"${DURATION}s" -s Benchmarks/post.lua "$1" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c32 -d2s -s Benchmarks/post.lua "$router" >/dev/null   # warm-up
D=$(rps "$direct"); N=$(rps "$proxied"); R=$(rps "$router")
echo "throughput req/s: model server direct $D, nginx $N, mlgw router $R"
python3 -c "print(f'router / nginx = {$R/$N:.2f}   router / direct = {$R/$D:.2f}   nginx / direct = {$N/$D:.2f}')"
python3 Benchmarks/latency.py 1000 5000 "$direct" "$router" | tee "$WORK/lat.json"
python3 - "$WORK/lat.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"median added latency at 1,000 req/s: {rows[1]['median_ms'] - rows[0]['median_ms']:.3f} ms "
      f"(direct {rows[0]['median_ms']:.3f} ms, router {rows[1]['median_ms']:.3f} ms)")
PY
