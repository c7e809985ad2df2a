#!/usr/bin/env bash
# What the status page costs the serving path: the router's throughput at saturation (wrk -t2 -c32
# on InvokeEndpoint) without the page and with it being polled, alternating, PAIRS pairs. "Polled"
# is what the page does, one GET /_ui/state a second (a Python poller: the host's cost alone); with
# --browser, headless Chromium has the page itself open (its rendering competes for the 2 cores too).
# Needs wrk (Debian), and chromium for --browser.
# Usage: Benchmarks/status_page.sh [seconds per run, default 10] [pairs, default 3] [--browser]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
PAIRS=${2:-3}
BROWSER=${3:-}
source Benchmarks/common.sh
bench_environment Benchmarks/stacks/router.yaml
"$BIN" apply Benchmarks/stacks/router.yaml --auto-approve >/dev/null
AWS=$("$BIN" status Benchmarks/stacks/router.yaml --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["host"]["awsPort"])')
UI=$("$BIN" ui Benchmarks/stacks/router.yaml)
router="http://127.0.0.1:$AWS/endpoints/bench/invocations"
rps() { wrk -t2 -c32 -d"${DURATION}s" -s Benchmarks/post.lua "$router" | awk '/Requests\/sec/ {print $2}'; }
poller() {
  python3 - "$UI/state" <<'PY' &
import sys, time, urllib.request
while True:
    urllib.request.urlopen(sys.argv[1], timeout=5).read()
    time.sleep(1)
PY
  POLLER=$!
}
browser() {
  chromium --headless --no-sandbox --disable-gpu --no-first-run --remote-debugging-port=0 "$UI" >/dev/null 2>&1 &
  POLLER=$!
  sleep 2
}
wrk -t2 -c32 -d2s -s Benchmarks/post.lua "$router" >/dev/null   # warm-up
off=(); on=()
for _ in $(seq "$PAIRS"); do
  off+=("$(rps)")
  if [ "$BROWSER" = "--browser" ]; then browser; else poller; fi
  on+=("$(rps)")
  kill "$POLLER" 2>/dev/null; wait "$POLLER" 2>/dev/null || true
done
python3 - "${off[*]}" "${on[*]}" "$BROWSER" <<'PY'
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
what = "Chromium with the page open" if sys.argv[3] == "--browser" else "the page's poll (GET /_ui/state each second)"
print(f"router req/s without the page: {', '.join(f'{x:,.0f}' for x in off)} (median {statistics.median(off):,.0f})")
print(f"router req/s with {what}: {', '.join(f'{x:,.0f}' for x in on)} (median {statistics.median(on):,.0f})")
print(f"cost: {(1 - statistics.median(on) / statistics.median(off)) * 100:+.2f}% of throughput")
PY
