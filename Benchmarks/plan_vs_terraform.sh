#!/usr/bin/env bash
# plan from empty state and a no-op plan (refresh included) of a generated stack, side by side
# with terraform plan of the same number of terraform_data resources; 10,000 checks scaling.
# Needs hyperfine and terraform. Usage: Benchmarks/plan_vs_terraform.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/.build/release/mlgw-deploy
WORK=$(mktemp -d)
export MLGW_STATE_DIR="$WORK/state" TF_CLI_CONFIG_FILE="$WORK/empty.tfrc" TF_IN_AUTOMATION=1
touch "$TF_CLI_CONFIG_FILE"
cleanup() {
  for n in 1000 10000; do "$BIN" destroy "$WORK/b$n/stack.yaml" --auto-approve >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
for n in 1000 10000; do python3 Benchmarks/gen_stack.py $n "$WORK/b$n" >/dev/null; done
(cd "$WORK/b1000/terraform" && terraform init -input=false >/dev/null)
H="hyperfine -N --warmup 2 --export-json"
echo "== plan from empty state, 1,000 resources"
$H "$WORK/p1.json" --runs 10 "$BIN plan $WORK/b1000/stack.yaml" "terraform -chdir=$WORK/b1000/terraform plan -input=false -lock=false" | grep -E "Time|±|faster"
echo "== plan from empty state, 10,000 resources (scaling)"
$H "$WORK/p10.json" --runs 5 "$BIN plan $WORK/b10000/stack.yaml" | grep -E "Time"
"$BIN" apply "$WORK/b1000/stack.yaml" --auto-approve >/dev/null
(cd "$WORK/b1000/terraform" && terraform apply -input=false -auto-approve -lock=false >/dev/null)
echo "== no-op plan with 1,000 resources in state (refresh included)"
$H "$WORK/n1.json" --runs 10 "$BIN plan $WORK/b1000/stack.yaml" "terraform -chdir=$WORK/b1000/terraform plan -input=false -lock=false" | grep -E "Time|±|faster"
"$BIN" apply "$WORK/b10000/stack.yaml" --auto-approve >/dev/null
echo "== no-op plan with 10,000 resources in state (scaling)"
$H "$WORK/n10.json" --runs 5 "$BIN plan $WORK/b10000/stack.yaml" | grep -E "Time"
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
def means(name):
    return [r["mean"] for r in json.load(open(f"{w}/{name}.json"))["results"]]
p1, tf_p1 = means("p1"); (p10,) = means("p10"); n1, tf_n1 = means("n1"); (n10,) = means("n10")
print(f"plan from empty, 1,000:   mlgw {p1*1e3:.0f} ms, terraform {tf_p1*1e3:.0f} ms -> {tf_p1/p1:.1f}x faster")
print(f"no-op plan, 1,000:        mlgw {n1*1e3:.0f} ms, terraform {tf_n1*1e3:.0f} ms -> {tf_n1/n1:.1f}x faster")
print(f"scaling 1,000 -> 10,000:  plan from empty x{p10/p1:.1f}, no-op plan x{n10/n1:.1f} (linear is x10)")
PY
