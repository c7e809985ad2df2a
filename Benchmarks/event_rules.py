"""Event rules: what PutEvents -> matching -> delivery to a function adds over invoking the function
directly (both asynchronous: the time from the call to the handler's first line), and how close to
its time a schedule fires.

python3 Benchmarks/event_rules.py [N=300]   (needs the release build; takes about two minutes, for
the two once-a-minute firings it waits for)

The handler writes time.time() at entry beside the send time it was given; both clocks are this
machine's. The schedule's lateness is the arrival time at a loopback URL target minus the firing's
own time (its envelope's `time`, a whole minute).
"""
import calendar
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, ".build", "release", "mlgw-deploy")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300

HANDLER = '''
import json, os, time
def handler(event, context):
    now = time.time()
    sent = event["detail"]["sent"] if "detail" in event else event["sent"]
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps({"kind": event.get("detail", event)["kind"], "latency": now - sent}) + "\\n")
    return {}
'''


def main():
    work = tempfile.mkdtemp()
    out = os.path.join(work, "latencies.jsonl")
    arrivals = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            arrivals.append((time.time(), json.loads(self.rfile.read(int(self.headers["content-length"])))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(os.path.join(work, "sink.py"), "w") as f:
        f.write(HANDLER)
    stack = os.path.join(work, "stack.yaml")
    with open(stack, "w") as f:
        f.write(f"""stack: events-bench
functions:
  sink: {{runtime: python3, handler: sink.handler, provisioned_concurrency: 1, environment: {{OUT: {out}}}}}
event_rules:
  to-function:
    pattern: {{source: [bench]}}
    target: {{function: sink}}
  every-minute:
    schedule: cron(* * * * ? *)
    target: {{url: "http://127.0.0.1:{server.server_address[1]}/tick"}}
""")
    env = dict(os.environ, MLGW_STATE_DIR=os.path.join(work, "state"))
    run = lambda *a: subprocess.run([BIN, *a], env=env, check=True, capture_output=True, text=True).stdout  # noqa: E731
    try:
        run("apply", stack, "--auto-approve")
        url = run("output", stack, "aws_endpoint_url").strip()
        kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="b", aws_secret_access_key="b",
                  config=Config(retries={"max_attempts": 1}))
        lam, events = boto3.client("lambda", **kw), boto3.client("events", **kw)
        for i in range(N):
            kind = "direct" if i % 2 == 0 else "bus"
            if kind == "direct":
                lam.invoke(FunctionName="sink", InvocationType="Event", Payload=json.dumps({"kind": kind, "sent": time.time()}))
            else:
                events.put_events(Entries=[{"Source": "bench", "DetailType": "B", "Detail": json.dumps({"kind": kind, "sent": time.time()})}])
            time.sleep(0.02)
        deadline = time.time() + 30
        while time.time() < deadline and (not os.path.exists(out) or sum(1 for _ in open(out)) < N):
            time.sleep(0.1)
        rows = [json.loads(l) for l in open(out)]
        p50 = {k: statistics.median(r["latency"] for r in rows if r["kind"] == k) * 1000 for k in ("direct", "bus")}
        p99 = {k: sorted(r["latency"] for r in rows if r["kind"] == k)[int(0.99 * (N // 2)) - 1] * 1000 for k in ("direct", "bus")}
        # Two firings of the once-a-minute schedule.
        deadline = time.time() + 130
        while time.time() < deadline and len(arrivals) < 2:
            time.sleep(0.2)
        late = []
        for t, event in arrivals[:2]:
            fired = calendar.timegm(time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ"))
            late.append((t - fired) * 1000)
        print(json.dumps({"n": N, "direct_p50_ms": round(p50["direct"], 3), "bus_p50_ms": round(p50["bus"], 3),
                          "added_p50_ms": round(p50["bus"] - p50["direct"], 3), "direct_p99_ms": round(p99["direct"], 3),
                          "bus_p99_ms": round(p99["bus"], 3), "schedule_late_ms": [round(x, 1) for x in late]}))
    finally:
        subprocess.run([BIN, "destroy", stack, "--auto-approve"], env=env, capture_output=True)
        server.shutdown()


if __name__ == "__main__":
    main()
