"""Monitors: a baseline profiled at apply, scheduled data-quality runs over the endpoint's captured
inputs on the environment's clock, SageMaker's files and a report per run, metrics, an event per run
and the seed's loop (drift -> event -> rule -> retrain -> a blue/green plan). Bad input is counted and
reported, never a crashed run."""
import json
import os
import time
import urllib.request

import numpy as np

from conftest import ROOT, wait_for

# Files written by SageMaker Model Monitor (SOURCES.md there says where each comes from).
CONFORMANCE = os.path.join(ROOT, "Tests", "MonitoringTests", "Conformance")


def send(url, rows, prefix="r", start=0):
    """POSTs CSV rows through the gateway, each with an inference id."""
    for i, row in enumerate(rows):
        body = row if isinstance(row, str) else ",".join(str(x) for x in row)
        req = urllib.request.Request(url, data=body.encode(), method="POST",
                                     headers={"content-type": "text/csv", "X-Amzn-SageMaker-Inference-Id": f"{prefix}-{start + i}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200


def traffic(n, seed, drifted):
    """Rows like the enterprise baseline's (examples/data/fraud-baseline.csv), or drifted ones:
    amounts three times larger and riskier merchants."""
    rng = np.random.default_rng(seed)
    amount = np.round(rng.lognormal(4.0, 0.9, n) * (3 if drifted else 1), 2)
    hour = rng.integers(0, 24, n)
    risk = np.round(rng.beta(5, 2, n) if drifted else rng.beta(2, 5, n), 3)
    count = rng.poisson(2.0, n)
    age = np.clip(np.round(rng.normal(40, 12, n)), 18, 90).astype(int)
    spend = np.round(rng.lognormal(6.0, 0.7, n), 2)
    return [list(r) for r in zip(amount.tolist(), hour.tolist(), risk.tolist(), count.tolist(), age.tolist(), spend.tolist())]


def runs_folder(mlgw, stack_name, monitor):
    return os.path.join(mlgw.state_dir, stack_name, "default", "data", "monitors", monitor, "runs")


def monitor_status(mlgw, stack, name):
    return next(m for m in mlgw.status(stack)["host"]["monitors"] if m["configuration"]["name"] == name)


def keys(value, prefix=""):
    """Every key path of a JSON document, lists folded into []."""
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(prefix + k)
            out |= keys(v, prefix + k + ".")
    elif isinstance(value, list):
        for v in value:
            out |= keys(v, prefix + "[].")
    return out


def test_the_seed_loop_drift_raises_an_event_that_retrains_the_model(mlgw, workdir):
    stack = str(workdir / "stacks" / "enterprise")
    mlgw.run("apply", stack, "--auto-approve", timeout=300)
    status = monitor_status(mlgw, stack, "fraud-drift")
    assert status["baselineRows"] == 2000 and status["baselineFeatures"] == ["amount", "hour", "merchant_risk", "txn_count_24h", "age", "spend_30d"]
    baseline = os.path.join(mlgw.state_dir, "enterprise", "default", "data", "monitors", "fraud-drift", "baseline")
    stats = json.load(open(os.path.join(baseline, "statistics.json")))
    assert stats["dataset"]["item_count"] == 2000
    # Drifted traffic through the gateway, and its labels in SageMaker's ground-truth merge format.
    rows = traffic(400, seed=11, drifted=True)
    send(mlgw.output(stack, "v1_url") + "/score", rows, prefix="drift")
    truth = workdir / "examples" / "data" / "ground-truth" / "2026" / "12"
    truth.mkdir(parents=True)
    with open(truth / "labels.jsonl", "w") as f:
        for i, r in enumerate(rows):
            label = 1 if r[2] > 0.75 and r[0] > 150 else 0
            f.write(json.dumps({"groundTruthData": {"data": str(label), "encoding": "CSV"},
                                "eventMetadata": {"eventId": f"drift-{i}"}, "eventVersion": "0"}) + "\n")
    artifact = workdir / "examples" / "models" / "enterprise-v1.json"
    before = json.load(open(artifact))
    # Capture files appear within a quarter second; then the schedule's hour passes.
    time.sleep(1.6)
    mlgw.run("clock", stack, "advance", "1h")
    last = wait_for(lambda: monitor_status(mlgw, stack, "fraud-drift").get("lastRun"), timeout=30, what="the scheduled run")
    assert last["status"] == "CompletedWithViolations", last
    assert last["rows"] == 400 and {"amount", "merchant_risk"} <= set(last["driftedFeatures"])
    run = os.path.join(runs_folder(mlgw, "enterprise", "fraud-drift"), last["id"])
    assert sorted(os.listdir(run)) == ["constraint_violations.json", "drift.json", "report.html", "run.json", "statistics.json"]
    violations = json.load(open(os.path.join(run, "constraint_violations.json")))["violations"]
    assert {v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"} == set(last["driftedFeatures"])
    report = open(os.path.join(run, "report.html")).read()
    assert "<svg" in report and "http" not in report.replace('xmlns="http://www.w3.org/2000/svg"', "") and "merchant_risk" in report
    # The event reached the rule, the rule the retrain function, and the function wrote a new model.
    wait_for(lambda: json.load(open(artifact)) != before, timeout=30, what="the retrained artifact")
    after = json.load(open(artifact))
    assert after["trained_on"]["rows"] == 400 and after["trained_on"]["monitor"] == "fraud-drift"
    assert after["feature_names"] == before["feature_names"] and after["coefficients"] != before["coefficients"]
    logs = mlgw.run("logs", stack, "functions.retrain").stdout
    assert '"retrained": true' in logs
    # The next plan shows the current variant's update with the new artifact.
    plan = mlgw.run("plan", stack, "--detailed-exitcode", check=False)
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "models.fraud-v1" in plan.stdout and "endpoints.fraud" in plan.stdout
    assert "blue/green" in plan.stdout, plan.stdout
    # The same hour's model-quality run joined the captured scores with the labels.
    quality = wait_for(lambda: monitor_status(mlgw, stack, "fraud-quality").get("lastRun"), timeout=30, what="the model-quality run")
    assert quality["rows"] == 400 and set(quality["metrics"]) == {"accuracy", "precision", "recall", "f1", "auc"}, quality
    qstats = json.load(open(os.path.join(runs_folder(mlgw, "enterprise", "fraud-quality"), quality["id"], "statistics.json")))
    assert qstats["dataset"]["item_count"] == 400 and qstats["binary_classification_metrics"]["auc"]["standard_deviation"] == "NaN"
    # Metrics of the latest run.
    metrics = urllib.request.urlopen(mlgw.status(stack)["aws_endpoint_url"] + "/metrics", timeout=5).read().decode()
    assert 'feature_drift{monitor="fraud-drift",feature="amount",method="wasserstein"}' in metrics
    assert 'monitor_violations{monitor="fraud-drift",check="baseline_drift_check"}' in metrics
    assert 'model_quality{monitor="fraud-quality",metric="auc"}' in metrics


def test_undrifted_traffic_raises_no_drift_and_the_files_have_sagemakers_shape(mlgw, workdir):
    stack = str(workdir / "stacks" / "enterprise")
    mlgw.run("apply", stack, "--auto-approve", timeout=300)
    send(mlgw.output(stack, "v1_url") + "/score", traffic(1500, seed=5, drifted=False), prefix="quiet")
    time.sleep(1.6)
    p = mlgw.run("monitor", "run", stack, "fraud-drift", check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Completed" in p.stdout and "drift " not in p.stdout.replace("drift:", "")
    last = monitor_status(mlgw, stack, "fraud-drift")["lastRun"]
    assert last["status"] == "Completed" and last["driftedFeatures"] == [] and last["rows"] == 1500
    run = os.path.join(runs_folder(mlgw, "enterprise", "fraud-drift"), last["id"])
    ours = json.load(open(os.path.join(run, "statistics.json")))
    real = json.load(open(os.path.join(CONFORMANCE, "statistics", "sdk_pipeline_data_quality_statistics.json")))
    # Every key our numeric statistics use is one the analyzer writes.
    assert keys(ours) - keys(real) == set(), keys(ours) - keys(real)
    f = ours["features"][0]["numerical_statistics"]
    assert f["common"]["num_present"] == 1500 and sum(b["count"] for b in f["distribution"]["kll"]["buckets"]) == 1500
    text = open(os.path.join(run, "statistics.json")).read()
    assert '"version" : 0.0' in text and '"features" : [ {' in text
    # `monitor report` prints the latest run and its table.
    out = mlgw.run("monitor", "report", stack, "fraud-drift").stdout
    assert last["id"] in out and "report.html" in out and "wasserstein" in out
    # Status names the monitor's last run, verdict and next run.
    text = mlgw.run("status", stack).stdout
    assert "fraud-drift" in text and "Completed" in text and "rate(1 hour)" in text


# A model server that answers 0.5 to any body, so every row (good or bad) is captured.
ECHO = """import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, body):
        self.send_response(200); self.send_header("content-type", "text/csv"); self.send_header("content-length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def do_GET(self): self.answer(b"ok")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0))); self.answer(b"0.5")
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["SAGEMAKER_BIND_TO_PORT"])), H).serve_forever()
"""


def write_stack(tmp_path, monitor, baseline="amount,kind\n1.5,a\n2.5,b\n3.5,a\n4.5,b\n5.5,a\n6.5,c\n"):
    (tmp_path / "baseline.csv").write_text(baseline)
    (tmp_path / "echo.py").write_text(ECHO)
    path = tmp_path / "stack.yaml"
    path.write_text(f"""stack: drift-edge
models:
  m:
    command: [python3, echo.py]
    artifact: echo.py
    probe: {{content_type: text/csv, body: "1,a"}}
endpoints:
  e:
    variants:
      a: {{model: m}}
    data_capture: {{sample_percent: 100, capture: [input, output]}}
monitors:
{monitor}
""")
    return path


def invoke(client, body):
    return client.invoke_endpoint(EndpointName="e", ContentType="text/csv", Body=body)


def test_bad_rows_are_counted_and_reported_never_a_crashed_run(mlgw, tmp_path):
    # The model answers any row; the monitor reads two columns (amount, kind).
    path = write_stack(tmp_path, """  edge:
    endpoint: e
    schedule: rate(1 hour)
    baseline: baseline.csv
    minimum_samples: 3
""")
    mlgw.run("apply", path, "--auto-approve")
    # Empty window: skipped, with the reason, and an event.
    p = mlgw.run("monitor", "run", path, "edge", check=False)
    assert p.returncode == 1 and "Skipped" in p.stdout and "fewer than the minimum of 3" in p.stdout
    # A window ends a second before its run: what comes next is the next window's.
    time.sleep(1.1)
    client = mlgw.client(path)
    for body in ["2.0,a", "3.0,b", "oops,a", "4.0", "5.0,a,extra", ",b", "6.0,zzz"]:
        # The model refuses none of these; only the monitor looks at them.
        invoke(client, body)
    time.sleep(1.6)
    p = mlgw.run("monitor", "run", path, "edge", "--json", check=False)
    summary = json.loads(p.stdout)
    assert summary["status"] == "CompletedWithViolations", summary
    run = summary["folder"]
    checks = {(v["constraint_check_type"], v["feature_name"]) for v in json.load(open(os.path.join(run, "constraint_violations.json")))["violations"]}
    assert ("data_type_check", "amount") in checks          # 'oops'
    assert ("completeness_check", "amount") in checks       # ',b'
    assert ("missing_column_check", "") in checks           # '4.0'
    assert ("extra_column_check", "") in checks             # '5.0,a,extra'
    assert ("categorical_values_check", "kind") in checks   # 'zzz'
    stats = json.load(open(os.path.join(run, "statistics.json")))
    amount = stats["features"][0]["numerical_statistics"]
    assert amount["common"] == {"num_present": 4, "num_missing": 1}
    # A run killed midway leaves only a hidden partial folder: nothing reads it, the next run clears it.
    runs = os.path.dirname(run)
    os.makedirs(os.path.join(runs, ".20990101T000000.partial"))
    open(os.path.join(runs, ".20990101T000000.partial", "statistics.json"), "w").write("{")
    out = mlgw.run("monitor", "report", path, "edge").stdout
    assert summary["id"] in out
    mlgw.run("monitor", "run", path, "edge", check=False)
    assert not any(n.startswith(".") for n in os.listdir(runs))
    # Every run was an event on the bus.
    events = [json.loads(line) for line in mlgw.run("events", "tail", path, "--from-start", "--pattern", '{"source": ["mlgw.monitor"]}',
                                                    "--timeout", "2").stdout.splitlines() if line.strip()]
    types = [e["detail-type"] for e in events]
    # The third run's window (since the second) holds nothing.
    assert types[:3] == ["Monitor Run Skipped", "Monitor Run Completed With Violations", "Monitor Run Skipped"], types
    assert events[1]["detail"]["violations"] and events[1]["resources"] == ["arn:aws:sagemaker:us-east-1:000000000000:monitoring-schedule/edge"]


def test_bad_baselines_and_settings_are_located_errors_at_validate(mlgw, tmp_path):
    monitor = """  edge:
    endpoint: e
    schedule: rate(1 hour)
    baseline: baseline.csv
"""
    cases = [
        ("1.5,2.5\n3.5,4.5\n", "baseline.csv:1:1: error: baseline CSV: the first line holds a number ('1.5'), not a feature name: the file has no header"),
        ("a,b\n1,2\n3\n4,5\n", "baseline.csv:3:1: error: baseline CSV: row has 1 cell, the header names 2 features"),
        ("a,a\n1,2\n", "baseline.csv:1:3: error: baseline CSV: feature 'a' is named twice (columns 1 and 2)"),
    ]
    for text, expected in cases:
        path = write_stack(tmp_path, monitor, baseline=text)
        p = mlgw.run("validate", path, check=False)
        assert p.returncode == 1 and expected in p.stderr, p.stderr
    bad = [
        ("    schedule: rate(1 hour)\n", "    schedule: rate(0 hours)\n", "the schedule of monitor 'edge' is not valid"),
        ("    baseline: baseline.csv\n", "    baseline: baseline.csv\n    features:\n      amount: {method: kss}\n", "unknown drift method 'kss'"),
        ("    baseline: baseline.csv\n", "    baseline: baseline.csv\n    features:\n      amuont: {threshold: 0.2}\n", "did you mean 'amount'?"),
        ("    baseline: baseline.csv\n", "    baseline: baseline.csv\n    drift: {method: ks, threshold: 1.5}\n", "threshold"),
        ("    baseline: baseline.csv\n", "    baseline: baseline.csv\n    type: model_quality\n", "add 'problem_type: binary_classification'"),
        ("    baseline: baseline.csv\n", "    baseline: baseline.csv\n    ground_truth: gt\n", "'ground_truth' of monitor 'edge' only goes with 'type: model_quality'"),
        ("    endpoint: e\n", "    endpoint: f\n", "endpoints.f"),
        ("    baseline: baseline.csv\n", "    baseline: baseline.csv\n    minimum_samples: 0\n", "minimum_samples"),
    ]
    for old, new, expected in bad:
        path = write_stack(tmp_path, monitor.replace(old, new))
        p = mlgw.run("validate", path, check=False)
        assert p.returncode == 1 and expected in p.stderr and "stack.yaml:" in p.stderr, (new, p.stderr)
    # An endpoint that does not capture its input cannot be monitored.
    path = write_stack(tmp_path, monitor)
    path.write_text(path.read_text().replace("    data_capture: {sample_percent: 100, capture: [input, output]}\n", ""))
    p = mlgw.run("validate", path, check=False)
    assert p.returncode == 1 and "does not capture its input" in p.stderr and "data_capture" in p.stderr


def test_a_baseline_change_is_in_place_and_an_endpoint_change_replaces_the_monitor(mlgw, tmp_path):
    path = write_stack(tmp_path, """  edge:
    endpoint: e
    schedule: rate(1 hour)
    baseline: baseline.csv
""")
    mlgw.run("apply", path, "--auto-approve")
    (tmp_path / "baseline.csv").write_text("amount,kind\n10,a\n20,b\n30,a\n")
    plan = mlgw.run("plan", path).stdout
    assert "monitors.edge will be updated in place" in plan and "baseline.sha256" in plan
    mlgw.run("apply", path, "--auto-approve")
    assert monitor_status(mlgw, path, "edge")["baselineRows"] == 3
    text = path.read_text().replace("  e:\n    variants:", "  e2:\n    variants:").replace("    endpoint: e\n", "    endpoint: e2\n")
    path.write_text(text)
    plan = mlgw.run("plan", path).stdout
    assert "monitors.edge must be replaced" in plan, plan


def test_model_quality_joins_answers_with_ground_truth_and_counts_what_does_not_join(mlgw, tmp_path):
    real = os.path.join(CONFORMANCE, "model_quality", "sdk_pipeline_model_quality_constraints.json")
    path = write_stack(tmp_path, f"""  quality:
    endpoint: e
    type: model_quality
    problem_type: regression
    schedule: rate(1 hour)
    ground_truth: truth
    baseline: {{constraints: {real}}}
    minimum_samples: 3
""")
    mlgw.run("apply", path, "--auto-approve")
    client = mlgw.client(path)
    labels = [0.1, 0.4, 0.95, 1.2, 0.5]
    for i in range(len(labels)):
        client.invoke_endpoint(EndpointName="e", ContentType="text/csv", Body="1,a", InferenceId=f"q-{i}")
    invoke(client, "2,b")  # captured without an inference id or a label
    lines = [json.dumps({"groundTruthData": {"data": str(y), "encoding": "CSV"}, "eventMetadata": {"eventId": f"q-{i}"}, "eventVersion": "0"})
             for i, y in enumerate(labels)]
    lines += [json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "nobody"}, "eventVersion": "0"})]
    # An upload with a bad line writes nothing and says where.
    (tmp_path / "bad.jsonl").write_text(lines[0] + "\n{broken\n" + json.dumps({"eventMetadata": {"eventId": "x"}}) + "\n")
    p = mlgw.run("monitor", "ground-truth", path, "quality", tmp_path / "bad.jsonl", check=False)
    assert p.returncode == 1 and "bad.jsonl:2: not a JSON object" in p.stderr and "bad.jsonl:3: no groundTruthData.data" in p.stderr
    assert "nothing was written" in p.stderr and not (tmp_path / "truth").exists()
    (tmp_path / "labels.jsonl").write_text("\n".join(lines) + "\n")
    p = mlgw.run("monitor", "ground-truth", path, "quality", tmp_path / "labels.jsonl")
    assert "6 ground-truth records written to " + str(tmp_path / "truth") in p.stdout
    # A file dropped into the folder by hand with a line out of format: counted at the run.
    (tmp_path / "truth" / "by-hand.jsonl").write_text("{broken\n")
    time.sleep(1.6)
    p = mlgw.run("monitor", "run", path, "quality", "--json", check=False)
    summary = json.loads(p.stdout)
    # The echo model answers 0.5 to everything: numpy gives the same metrics.
    y = np.array(labels)
    expected = {"mae": np.abs(y - 0.5).mean(), "mse": ((y - 0.5) ** 2).mean(), "rmse": np.sqrt(((y - 0.5) ** 2).mean()),
                "r2": 1 - ((y - 0.5) ** 2).sum() / ((y - y.mean()) ** 2).sum()}
    assert summary["rows"] == 5 and summary["records"] == 6
    for k, v in expected.items():
        assert abs(summary["metrics"][k] - v) < 1e-12, (k, summary["metrics"][k], v)
    assert "1 captured answers have no ground truth yet" in summary["message"]
    assert "1 ground-truth records match no captured record in the window" in summary["message"]
    assert "1 ground-truth lines are not in the merge format" in summary["message"]
    # The conformance constraints: mae > 0.504 is a violation, r2 < -3.2 is not.
    violations = json.load(open(os.path.join(summary["folder"], "constraint_violations.json")))["violations"]
    assert {v["metric_name"] for v in violations} == ({"mae"} if expected["mae"] > 0.5040653554420981 else set()) | (
        {"mse"} if expected["mse"] > 0.33364933609800973 else set()) | ({"rmse"} if expected["rmse"] > 0.5776238707827177 else set())
    assert p.returncode == (2 if violations else 0)
    stats = json.load(open(os.path.join(summary["folder"], "statistics.json")))
    real_stats = json.load(open(os.path.join(CONFORMANCE, "model_quality", "sdk_pipeline_model_quality_statistics.json")))
    assert keys(stats) == keys(real_stats)


def test_a_host_killed_during_a_run_leaves_no_partial_report_and_the_next_run_completes(mlgw, tmp_path):
    import signal
    path = write_stack(tmp_path, """  edge:
    endpoint: e
    schedule: rate(1 hour)
    window: 1h
    baseline: baseline.csv
""")
    mlgw.run("apply", path, "--auto-approve")
    # Enough captured records that a run takes a while (written as the capture writer does).
    stamp = time.time() - 30
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime(stamp))
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    folder = os.path.join(mlgw.state_dir, "drift-edge", "default", "capture", "e", "a", hour)
    os.makedirs(folder, exist_ok=True)
    line = ('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"%s,a","encoding":"CSV"}},'
            '"eventMetadata":{"eventId":"e","inferenceTime":"' + iso + '"},"eventVersion":"0"}\n')
    for k in range(4):
        with open(os.path.join(folder, f"big-{k}.jsonl"), "w") as f:
            f.writelines(line % (i % 97) for i in range(150_000))
    pid = mlgw.status(path)["host"]["pid"]
    import subprocess
    from conftest import BIN
    run = subprocess.Popen([BIN, "monitor", "run", path, "edge"], env=dict(os.environ, MLGW_STATE_DIR=mlgw.state_dir),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.4)
    os.kill(pid, signal.SIGKILL)
    run.wait(timeout=30)
    # The command lost its host mid-run.
    assert run.returncode == 1 and b"does not answer" in run.stderr.read(), "the run finished before the kill; give it more records"
    runs = os.path.join(mlgw.state_dir, "drift-edge", "default", "data", "monitors", "edge", "runs")
    visible = [n for n in os.listdir(runs) if not n.startswith(".")] if os.path.isdir(runs) else []
    for name in visible:
        # Whatever is visible is whole.
        assert sorted(os.listdir(os.path.join(runs, name))) == ["constraint_violations.json", "drift.json", "report.html", "run.json", "statistics.json"]
    # The next apply starts a new host; the next run completes over the same window.
    mlgw.run("apply", path, "--auto-approve")
    p = mlgw.run("monitor", "run", path, "edge", "--json", check=False)
    summary = json.loads(p.stdout)
    assert summary["rows"] == 600_000 and summary["status"] in ("Completed", "CompletedWithViolations"), summary
    assert not any(n.startswith(".") for n in os.listdir(runs))
