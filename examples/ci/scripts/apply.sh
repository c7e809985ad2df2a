#!/usr/bin/env bash
# Apply a plan saved by plan.sh, exactly: the apply refuses (exit 1, naming what changed) when the
# environment or the stack's files moved since the plan was made.
#
#   examples/ci/scripts/apply.sh PLAN_DIR
set -euo pipefail
out="${1:-plan-output}"
bin="${MLGW_DEPLOY:-mlgw-deploy}"
if [ "$(cat "$out/has-changes")" = "false" ]; then
  echo "apply: the plan has no changes"
  exit 0
fi
"$bin" apply "$out/plan.bin" --auto-approve
