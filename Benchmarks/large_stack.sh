#!/usr/bin/env bash
# validate of a 10 MB stack with 240,000 variables: wall time and peak memory (target: under 1 s
# and 200 MB), 3 runs. Usage: Benchmarks/large_stack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/.build/release/mlgw-deploy
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK/big.yaml" "$PWD/examples/models/churn-v1.json" <<'PY'
import sys
lines = ["stack: big", "variables:"]
lines += [f"  v{i}: {{type: number, default: {i}}}" for i in range(240_000)]
lines += ["models:", f"  m: {{runtime: linear, artifact: {sys.argv[2]}}}", "endpoints:", '  e: {variants: {a: {model: m, weight: "${var.v7}"}}}']
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
echo "stack: $(du -h "$WORK/big.yaml" | cut -f1), $(grep -c '^  v' "$WORK/big.yaml") variables"
for i in 1 2 3; do
  /usr/bin/time -f "validate: %e s, %M KB peak" "$BIN" validate "$WORK/big.yaml" >/dev/null
done
