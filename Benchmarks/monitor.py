"""Monitor benchmarks, through the real path (results go to docs/benchmarks.md):

- the baseline of a 1,000,000-row, 20-feature training CSV: `mlgw-deploy baseline STACK NAME`
  (the host reads the CSV, infers types, profiles every feature, writes statistics.json and
  constraints.json);
- a run over 1,000,000 captured records with the same 20 numeric features, as the capture writer
  writes them (JSON lines under capture/ENDPOINT/VARIANT/yyyy/mm/dd/hh/): `mlgw-deploy monitor run`
  (reading, parsing, statistics, drift by Evidently's rule - Wasserstein for this size -, the
  files and the report);
- the serving path while a run is in progress: InvokeEndpoint paced at 500 requests/s on one
  keep-alive connection, p50 and p99 without a run and during runs back to back;
- Evidently (optional, `--evidently VENV`: a virtualenv with `evidently` and `pandas<3`): its
  legacy DataDriftPreset report on the same reference and current data, already in pandas (the
  loading is not timed), and whether every feature's verdict agrees with ours.

python3 Benchmarks/monitor.py [--rows 1000000] [--repeat 3] [--evidently /tmp/evvenv]
Build first: swift build -c release --product mlgw-deploy
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, ".build", "release", "mlgw-deploy")
FEATURES = 20


def run(*args, env, check=True):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{p.stdout}\n{p.stderr}")
    return p


def data(rows, seed, drifted):
    """Twenty numeric features: the first ten the same in both sets, the last ten shifted by
    0.05 to 0.5 standard deviations in the current set; half rounded to integers."""
    rng = np.random.default_rng(seed)
    columns = []
    for i in range(FEATURES):
        shift = (0.05 * (i - 9)) if drifted and i >= 10 else 0.0
        x = rng.normal(10 + i + shift * (1 + i / 10), 1 + i / 10, rows)
        columns.append(np.round(x) if i % 2 else np.round(x, 4))
    return np.column_stack(columns)


def write_csv(path, matrix):
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(FEATURES)) + "\n")
        np.savetxt(f, matrix, fmt=["%.4f" if i % 2 == 0 else "%d" for i in range(FEATURES)], delimiter=",")


def write_capture(folder, matrix, stamp, files=10):
    """The capture writer's layout and record shape, one hour folder, `files` files."""
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime(stamp))
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    target = os.path.join(folder, "a", hour)
    os.makedirs(target, exist_ok=True)
    lines = [",".join(f"{v:.4f}" if i % 2 == 0 else f"{int(v)}" for i, v in enumerate(row)) for row in matrix]
    per = (len(lines) + files - 1) // files
    for k in range(files):
        with open(os.path.join(target, f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(stamp))}-{k}.jsonl"), "w") as f:
            for j, text in enumerate(lines[k * per:(k + 1) * per]):
                f.write('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"' + text
                        + '","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"0.5","encoding":"CSV"}},'
                        + '"eventMetadata":{"eventId":"00000000-0000-4000-8000-%012d","inferenceTime":"%s"},"eventVersion":"0"}\n' % (k * per + j, iso))


def timed(args, env, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = run(*args, env=env, check=False)
        times.append(time.perf_counter() - t)
        if out.returncode not in (0, 2):
            sys.exit(f"{args} failed:\n{out.stdout}\n{out.stderr}")
    return statistics.median(times), times, out


def paced(port, seconds, rate=500):
    """Latencies (ms) of InvokeEndpoint calls paced at `rate` for `seconds`."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port)
    body = ",".join(["1"] * FEATURES)
    out = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds:
        target = start + i / rate
        now = time.perf_counter()
        if target > now:
            time.sleep(target - now)
        t = time.perf_counter()
        conn.request("POST", "/endpoints/e/invocations", body=body, headers={"Content-Type": "text/csv"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        out.append((time.perf_counter() - t) * 1000)
        i += 1
    return out


def serving(env, stack, port, seconds=6):
    """p50/p99 of the serving path without and during monitor runs."""
    import threading
    quiet = paced(port, seconds)
    stop = threading.Event()

    def runs():
        while not stop.is_set():
            run("monitor", "run", stack, "drift", env=env, check=False)
    t = threading.Thread(target=runs)
    t.start()
    time.sleep(0.3)
    busy = paced(port, seconds)
    stop.set()
    t.join()

    def q(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(p * len(xs)))]
    return (q(quiet, 0.5), q(quiet, 0.99)), (q(busy, 0.5), q(busy, 0.99))


def evidently(venv, reference, current):
    script = """
import json, sys, time
import numpy as np, pandas as pd
from evidently.legacy.report import Report
from evidently.legacy.metric_preset import DataDriftPreset
ref = pd.DataFrame(np.load(sys.argv[1]), columns=[f"f{i}" for i in range(%d)])
cur = pd.DataFrame(np.load(sys.argv[2]), columns=[f"f{i}" for i in range(%d)])
t = time.perf_counter()
r = Report(metrics=[DataDriftPreset()])
r.run(reference_data=ref, current_data=cur)
d = r.as_dict()
elapsed = time.perf_counter() - t
cols = next(m["result"]["drift_by_columns"] for m in d["metrics"] if "drift_by_columns" in m["result"])
print(json.dumps({"seconds": elapsed, "columns": {k: [v["stattest_name"], v["drift_score"], v["drift_detected"]] for k, v in cols.items()}}))
""" % (FEATURES, FEATURES)
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "ref.npy"), reference)
        np.save(os.path.join(d, "cur.npy"), current)
        p = subprocess.run([os.path.join(venv, "bin", "python"), "-c", script, os.path.join(d, "ref.npy"), os.path.join(d, "cur.npy")],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("evidently failed:\n" + p.stderr[-3000:])
        return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--evidently", help="a virtualenv with evidently and pandas<3")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mlgw-monitor-bench-")
    env = dict(os.environ, MLGW_STATE_DIR=os.path.join(work, "state"), NO_COLOR="1")
    stack = os.path.join(work, "stack.yaml")
    try:
        print(f"generating {a.rows:,} baseline rows and {a.rows:,} captured records x {FEATURES} features ...", flush=True)
        reference, current = data(a.rows, 1, False), data(a.rows, 2, True)
        write_csv(os.path.join(work, "baseline.csv"), reference)
        json.dump({"objective": "regression", "coefficients": [0.0] * FEATURES, "intercept": 0.5}, open(os.path.join(work, "model.json"), "w"))
        open(stack, "w").write(f"""stack: monitor-bench
models:
  m: {{runtime: linear, artifact: model.json}}
endpoints:
  e:
    variants: {{a: {{model: m}}}}
    data_capture: {{sample_percent: 100, capture: [input, output]}}
monitors:
  drift:
    endpoint: e
    schedule: rate(1 day)
    window: 24h
    baseline: baseline.csv
""")
        size = os.path.getsize(os.path.join(work, "baseline.csv"))
        t = time.perf_counter()
        run("apply", stack, "--auto-approve", env=env)
        print(f"apply (host start, model, endpoint, baseline of {a.rows:,} rows, {size / 1e6:.0f} MB): {time.perf_counter() - t:.2f} s")
        median, all_times, _ = timed(["baseline", stack, "drift"], env, a.repeat)
        print(f"baseline of {a.rows:,} rows x {FEATURES} features: median {median:.2f} s ({', '.join(f'{x:.2f}' for x in all_times)})")
        capture = os.path.join(work, "state", "monitor-bench", "default", "capture", "e")
        write_capture(capture, current, time.time() - 120)
        csize = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(capture) for f in fs)
        median, all_times, out = timed(["monitor", "run", stack, "drift", "--json"], env, a.repeat)
        summary = json.loads(out.stdout)
        assert summary["rows"] == a.rows, summary
        print(f"run over {a.rows:,} captured records ({csize / 1e6:.0f} MB of JSON lines): median {median:.2f} s ({', '.join(f'{x:.2f}' for x in all_times)})")
        ours = {d["feature"]: d for d in json.load(open(os.path.join(summary["folder"], "drift.json")))}
        print(f"our verdicts: {sum(d['drifted'] for d in ours.values())} of {FEATURES} features drifted")
        port = json.load(open(os.path.join(work, "state", "monitor-bench", "default", "environment.json")))["awsPort"]
        (q50, q99), (b50, b99) = serving(env, stack, port)
        print(f"InvokeEndpoint at 500 req/s: p50 {q50:.3f} ms, p99 {q99:.3f} ms without a run; p50 {b50:.3f} ms, p99 {b99:.3f} ms during runs back to back")
        if a.evidently:
            ev = evidently(a.evidently, reference, current)
            agree = all(ev["columns"][f][2] == ours[f]["drifted"] for f in ours)
            print(f"evidently DataDriftPreset on the same data (in memory): {ev['seconds']:.2f} s = {ev['seconds'] / median:.1f}x our run; "
                  f"verdicts agree on {sum(ev['columns'][f][2] == ours[f]['drifted'] for f in ours)} of {FEATURES}")
            for f in sorted(ours, key=lambda k: int(k[1:])):
                e = ev["columns"][f]
                print(f"  {f}: ours {ours[f]['method']} {ours[f]['statistic']:.6f} {'drift' if ours[f]['drifted'] else 'ok'}; "
                      f"evidently {e[0]} {e[1]:.6f} {'drift' if e[2] else 'ok'}")
            if not agree:
                sys.exit("verdicts differ")
    finally:
        run("destroy", stack, "--auto-approve", env=env, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
