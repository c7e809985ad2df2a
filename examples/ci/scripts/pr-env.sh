#!/usr/bin/env bash
# A per-pull-request environment: its own state, processes and ports (--env pr-N), so every pull
# request's integration tests run against a stack of their own.
#
#   examples/ci/scripts/pr-env.sh up   STACK N      # apply to environment pr-N; prints its outputs
#   examples/ci/scripts/pr-env.sh test STACK N CMD  # runs CMD with MLGW_AWS_URL and the stack's outputs as MLGW_OUTPUT_<NAME>
#   examples/ci/scripts/pr-env.sh down STACK N      # destroys environment pr-N and checks nothing is left
set -euo pipefail
action="$1"; stack="$2"; n="$3"; shift 3
bin="${MLGW_DEPLOY:-mlgw-deploy}"
env="pr-$n"
case "$action" in
  up)
    "$bin" apply "$stack" --env "$env" --auto-approve
    "$bin" output "$stack" --env "$env"
    ;;
  test)
    # Every output as an environment variable: MLGW_OUTPUT_AWS_ENDPOINT_URL=...
    while IFS= read -r line; do
      name="$(printf '%s' "${line%%=*}" | tr -d ' ' | tr 'a-z-' 'A-Z_')"
      value="$(printf '%s' "${line#*=}" | sed 's/^ *//; s/^"//; s/"$//')"
      export "MLGW_OUTPUT_$name=$value"
    done < <("$bin" output "$stack" --env "$env" | grep '=')
    export MLGW_AWS_URL="${MLGW_OUTPUT_AWS_ENDPOINT_URL:-}"
    "$@"
    ;;
  down)
    "$bin" destroy "$stack" --env "$env" --auto-approve
    ;;
  *)
    echo "usage: pr-env.sh up|test|down STACK N [CMD...]" >&2
    exit 1
    ;;
esac
