"""The enterprise stack's nightly report: run by the event rule `nightly-report` (a cron schedule),
it reads the environment's metrics and prints each fraud variant's invocations and errors to the
function's log (mlgw-deploy logs stacks/enterprise functions.nightly-report)."""
import json
import os
import urllib.request


def handler(event, context):
    text = urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/metrics", timeout=5).read().decode()
    endpoint = os.environ["ENDPOINT_NAME"]
    counts = {}
    for line in text.splitlines():
        if line.startswith(("mlgw_invocations_total", "mlgw_invocation_errors_total")) and f'endpoint="{endpoint}"' in line:
            name, value = line.rsplit(" ", 1)
            counts[name] = float(value)
    report = {"report": event.get("report", "daily"), "time": event.get("time"), "endpoint": endpoint, "counters": counts}
    print(json.dumps(report))
    return report
