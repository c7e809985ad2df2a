#!/usr/bin/env bash
# apply of the quickstart stack from nothing to serving, and destroy back to nothing, N times.
# Usage: Benchmarks/apply_destroy.sh [runs, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/mlgw-deploy
RUNS=${1:-10}
export MLGW_STATE_DIR=$(mktemp -d)
trap 'rm -rf "$MLGW_STATE_DIR"' EXIT
python3 - "$BIN" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
bin, runs = sys.argv[1], int(sys.argv[2])
applies, destroys = [], []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run([bin, "apply", "stacks/quickstart.yaml", "--auto-approve"], check=True, capture_output=True)
    applies.append(time.perf_counter() - t)
    t = time.perf_counter()
    subprocess.run([bin, "destroy", "stacks/quickstart.yaml", "--auto-approve"], check=True, capture_output=True)
    destroys.append(time.perf_counter() - t)
print(f"apply quickstart (3 resources, 3 model servers, healthy): median {statistics.median(applies)*1e3:.0f} ms, max {max(applies)*1e3:.0f} ms over {runs}")
print(f"destroy quickstart (nothing left):                        median {statistics.median(destroys)*1e3:.0f} ms, max {max(destroys)*1e3:.0f} ms over {runs}")
PY
