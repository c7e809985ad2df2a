"""Autoscaler benchmarks, through the real path (results go to docs/benchmarks.md):

- reaction: a step load (from nothing to N callers at once) on a variant whose step scaling
  alarm is `Invocations Sum >= threshold` over one 10-second period; measured from the start of
  the first breaching period to the moment the new instances are in the route
  (`mlgw_endpoint_healthy_instances` on /metrics, polled every 10 ms). The bound is the alarm's
  evaluation time (period x evaluation periods) plus 1 s, instance start included. Also the part
  after the period's end (detection, decision, the new instances' start and health check).
- idle cost: the environment host's CPU time (utime + stime of its process) over a quiet minute
  with 100 scaling policies (one per variant: target tracking, step scaling on silence, two
  scheduled actions) against the same stack without them: the difference, in percent of one core.

python3 Benchmarks/scaling.py [--repeat 5] [--idle-seconds 60]
Build first: swift build -c release --product mlgw-deploy
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, ".build", "release", "mlgw-deploy")
MODEL = os.path.join(ROOT, "examples", "models", "enterprise-v1.json")
ROW = b"120.5,3,0.4,2,35,900"
TICKS = os.sysconf("SC_CLK_TCK")


def run(*args, env, check=True, timeout=600):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{p.stdout}\n{p.stderr}")
    return p


def healthy(url):
    text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    m = re.search(r'mlgw_endpoint_healthy_instances\{endpoint="e",variant="a"\} (\d+)', text)
    return int(m.group(1)) if m else 0


def reaction(env, folder, threshold=200, callers=4):
    path = os.path.join(folder, "reaction.yaml")
    with open(path, "w") as f:
        f.write(f"""stack: scaling-reaction
models:
  m: {{runtime: linear, artifact: {MODEL}}}
endpoints:
  e:
    variants:
      a: {{model: m, weight: 1}}
scaling_policies:
  p:
    target: endpoints.e.variants.a
    min: 1
    max: 3
    step_scaling:
      - name: burst
        alarm: {{metric: Invocations, statistic: Sum, period: 10s, evaluation_periods: 1, threshold: {threshold},
                comparison: GreaterThanOrEqualToThreshold}}
        steps: [{{lower: 0, adjustment: 2}}]
        cooldown: 0s
""")
    run("apply", path, "--auto-approve", env=env)
    try:
        return measure_reaction(run("output", path, "aws_endpoint_url", env=env).stdout.strip(), threshold, callers)
    finally:
        run("destroy", path, "--auto-approve", env=env)


def measure_reaction(url, threshold, callers):
    # Start the load just after a period begins, so the first period is a whole one.
    now = time.time()
    time.sleep(10 - now % 10 + 0.05)
    sent = []
    stop = threading.Event()
    lock = threading.Lock()

    def caller():
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]))
        while not stop.is_set():
            c.request("POST", "/endpoints/e/invocations", ROW, {"Content-Type": "text/csv"})
            c.getresponse().read()
            with lock:
                sent.append(time.time())

    threads = [threading.Thread(target=caller, daemon=True) for _ in range(callers)]
    for t in threads:
        t.start()
    serving = None
    deadline = time.time() + 40
    while time.time() < deadline:
        if healthy(url) >= 3:
            serving = time.time()
            break
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(5)
    if serving is None:
        sys.exit("the variant never scaled out")
    # The first 10-second period whose requests reached the threshold.
    counts = {}
    for t in sent:
        counts[int(t // 10)] = counts.get(int(t // 10), 0) + 1
    first = min(k for k, n in counts.items() if n >= threshold) * 10
    return serving - first, serving - (first + 10)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def idle_cost(env, folder, seconds, policies=100):
    endpoints = policies // 5

    def write(with_policies):
        path = os.path.join(folder, "idle.yaml")
        lines = ["stack: scaling-idle", "models:", f"  m: {{runtime: linear, artifact: {MODEL}}}", "endpoints:"]
        for e in range(endpoints):
            lines += [f"  e{e}:", "    variants:"] + [f"      v{v}: {{model: m, weight: 1}}" for v in range(5)]
        if with_policies:
            lines.append("scaling_policies:")
            for e in range(endpoints):
                for v in range(5):
                    lines += [f"  p{e}-{v}:", f"    target: endpoints.e{e}.variants.v{v}", "    min: 1", "    max: 4",
                              "    target_tracking: [{metric: SageMakerVariantInvocationsPerInstance, target: 600}]",
                              "    step_scaling:",
                              "      - alarm: {metric: Invocations, evaluation_periods: 15, threshold: 1, comparison: LessThanThreshold, missing_data: {fill: 0}}",
                              "        steps: [{upper: 0, adjustment: -1}]",
                              "    scheduled_actions:",
                              '      - {name: evening, schedule: "cron(0 20 * * ? *)", timezone: Europe/Berlin, min: 1, max: 1}',
                              '      - {name: morning, schedule: "cron(0 7 * * ? *)", timezone: Europe/Berlin, min: 1, max: 4}']
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    results = {}
    path = write(False)
    try:
        run("apply", path, "--auto-approve", env=env)
        with open(os.path.join(env["MLGW_STATE_DIR"], "scaling-idle", "default", "environment.json")) as f:
            pid = json.load(f)["pid"]
        for label, with_policies in (("without", False), ("with", True), ("without again", False)):
            run("apply", write(with_policies), "--auto-approve", env=env)
            time.sleep(5)
            c0, t0 = cpu_seconds(pid), time.time()
            time.sleep(seconds)
            results[label] = (cpu_seconds(pid) - c0) / (time.time() - t0) * 100
    finally:
        run("destroy", path, "--auto-approve", env=env, check=False)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--idle-seconds", type=int, default=60)
    ap.add_argument("--idle-only", action="store_true")
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="mlgw-scaling-bench-")
    env = dict(os.environ, MLGW_STATE_DIR=os.path.join(folder, "state"), NO_COLOR="1")
    totals, after = [], []
    for i in range(args.repeat if not args.idle_only else 0):
        total, tail = reaction(env, folder)
        totals.append(total)
        after.append(tail)
        print(f"reaction {i + 1}: {total:.2f} s from the first breaching period's start to 3 instances serving "
              f"({tail * 1000:.0f} ms after the period's end; bound 11 s)", flush=True)
    if totals:
        print(f"reaction: median {statistics.median(totals):.2f} s, max {max(totals):.2f} s; after the period's end "
              f"median {statistics.median(after) * 1000:.0f} ms, max {max(after) * 1000:.0f} ms")
    idle = idle_cost(env, folder, args.idle_seconds)
    for k, v in idle.items():
        print(f"idle host CPU {k} 100 policies: {v:.3f}% of one core")
    base = (idle["without"] + idle["without again"]) / 2
    print(f"autoscaler's own cost with 100 idle policies: {idle['with'] - base:.3f}% of one core (target < 1%)")


if __name__ == "__main__":
    main()
