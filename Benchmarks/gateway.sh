#!/usr/bin/env bash
# The gateway's endpoint path: throughput at saturation (wrk -t2 -c32) and median latency at
# 1,000 req/s, for the same model server called directly, through nginx as a reverse proxy
# (keep-alive upstream), through the endpoint's URL (router) and through a gateway route that
# checks an API key, its usage plan's throttle and quota, and writes the access log.
# Needs wrk and nginx (Debian). Usage: Benchmarks/gateway.sh [seconds per wrk run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
source Benchmarks/common.sh
bench_environment Benchmarks/stacks/gateway.yaml
export BENCH_API_KEY="bench-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
"$BIN" apply Benchmarks/stacks/gateway.yaml --auto-approve >/dev/null
read -r AWS GW MODEL < <("$BIN" status Benchmarks/stacks/gateway.yaml --json | python3 -c '
import json, sys
h = json.load(sys.stdin)["host"]
print(h["awsPort"], h["gatewayPort"], h["endpoints"][0]["variants"][0]["instances"][0]["port"])')
start_nginx_proxy "$MODEL"
direct="http://127.0.0.1:$MODEL/invocations"
proxied="http://127.0.0.1:$NGINX_PORT/invocations"
router="http://127.0.0.1:$AWS/endpoints/bench/invocations"
gateway="http://127.0.0.1:$GW/b/score"
rps() { wrk -t2 -c32 -d"${DURATION}s" -s Benchmarks/post.lua -H "x-api-key: $BENCH_API_KEY" "$1" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c32 -d2s -s Benchmarks/post.lua -H "x-api-key: $BENCH_API_KEY" "$gateway" >/dev/null   # warm-up
D=$(rps "$direct"); N=$(rps "$proxied"); R=$(rps "$router"); G=$(rps "$gateway")
echo "throughput req/s: model server direct $D, nginx $N, endpoint URL $R, gateway (API key + plan + access log) $G"
python3 -c "print(f'gateway / nginx = {$G/$N:.2f}   gateway / endpoint URL = {$G/$R:.2f}   router / nginx = {$R/$N:.2f}')"
LATENCY_HEADERS="{\"x-api-key\": \"$BENCH_API_KEY\"}" python3 Benchmarks/latency.py --interleave 1000 5000 "$direct" "$router" "$gateway" | tee "$WORK/lat.json"
python3 - "$WORK/lat.json" <<'PY'
import json, sys
d, r, g = [json.loads(l) for l in open(sys.argv[1])]
print(f"median at 1,000 req/s: direct {d['median_ms']:.3f} ms, endpoint URL {r['median_ms']:.3f} ms, gateway {g['median_ms']:.3f} ms")
print(f"gateway adds {g['median_ms'] - r['median_ms']:.3f} ms over the endpoint URL, {g['median_ms'] - d['median_ms']:.3f} ms over the model server")
PY
echo "access log lines: $(wc -l < "$MLGW_STATE_DIR/bench-gateway/default/logs/gateway/access.log")"
