#!/usr/bin/env bash
# CPU time the environment host spends per request, through a gateway route (API key, usage plan,
# access log) and through the endpoint URL, at saturation (wrk -t2 -c32, 8 s after a 2 s warm-up).
# Less noisy than throughput on a shared 2-core machine: it does not depend on how much CPU wrk
# and the model server got. Usage: Benchmarks/cpu_per_request.sh [checkout, default .]
# (a second checkout, built with `swift build -c release`, compares two versions in one session).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
source Benchmarks/common.sh
bench_environment Benchmarks/stacks/gateway.yaml
export BENCH_API_KEY="bench-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
"$BIN" apply Benchmarks/stacks/gateway.yaml --auto-approve >/dev/null
read -r PID AWS GW < <("$BIN" status Benchmarks/stacks/gateway.yaml --json | python3 -c '
import json, sys
h = json.load(sys.stdin)["host"]
print(h["pid"], h["awsPort"], h["gatewayPort"])')
ticks() { awk '{print $14+$15}' /proc/$PID/stat; }
run() {
  wrk -t2 -c32 -d2s -s Benchmarks/post.lua -H "x-api-key: $BENCH_API_KEY" "$1" >/dev/null
  local a=$(ticks)
  local n=$(wrk -t2 -c32 -d8s -s Benchmarks/post.lua -H "x-api-key: $BENCH_API_KEY" "$1" | awk '/requests in/ {print $1}')
  local b=$(ticks)
  python3 -c "print(f'$2: {($b-$a)*10000/$n:.1f} µs of host CPU per request ({$n} requests)')"
}
run "http://127.0.0.1:$GW/b/score" gateway
run "http://127.0.0.1:$AWS/endpoints/bench/invocations" endpoint
