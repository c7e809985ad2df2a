#!/usr/bin/env bash
# Validate a stack and plan it for review. Writes:
#   $OUT_DIR/plan.md      the plan as a pull-request comment (plan --format markdown)
#   $OUT_DIR/plan.bin     the saved plan, which apply.sh applies exactly (or refuses if what runs changed)
#   $OUT_DIR/has-changes  "true" or "false"
# Exits 0 with or without changes, 1 on any error (validate's errors are printed with file:line:column).
#
#   examples/ci/scripts/plan.sh STACK [--env NAME] [--var k=v ...]
set -euo pipefail
stack="$1"; shift
out="${OUT_DIR:-plan-output}"
bin="${MLGW_DEPLOY:-mlgw-deploy}"
mkdir -p "$out"
"$bin" validate "$stack" "$@"
# One plan: the comment shows exactly the changes the saved plan holds.
set +e
"$bin" plan "$stack" "$@" --detailed-exitcode --out "$out/plan.bin" --format markdown > "$out/plan.md"
code=$?
set -e
case "$code" in
  0) echo false > "$out/has-changes" ;;
  2) echo true > "$out/has-changes" ;;
  *) exit 1 ;;
esac
echo "plan: changes=$(cat "$out/has-changes"), comment in $out/plan.md, saved plan in $out/plan.bin"
