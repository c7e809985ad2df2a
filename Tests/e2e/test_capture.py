"""Data capture: SageMaker's JSONL records, read back line by line."""
import glob
import json
import os
import re
import time

STACK = """stack: capture
models:
  m1: {{runtime: linear, artifact: {root}/examples/models/churn-v1.json}}
  m2: {{runtime: linear, artifact: {root}/examples/models/churn-v2.json}}
endpoints:
  scored:
    data_capture: {{sample_percent: {percent}, capture: [{modes}]}}
    variants:
      a: {{model: m1, weight: 1}}
      b: {{model: m2, weight: 1}}
"""


def write(tmp_path, percent=100, modes="input, output"):
    from conftest import ROOT
    path = tmp_path / "capture.yaml"
    path.write_text(STACK.format(root=ROOT, percent=percent, modes=modes))
    return str(path)


def records(mlgw, endpoint="scored"):
    folder = os.path.join(mlgw.state_dir, "capture", "default", "capture", endpoint)
    files = sorted(glob.glob(os.path.join(folder, "*", "*", "*", "*", "*", "*.jsonl")))
    out = []
    for f in files:
        rel = os.path.relpath(f, folder).split(os.sep)
        assert rel[0] in ("a", "b") and re.fullmatch(r"\d{4}", rel[1]) and all(re.fullmatch(r"\d\d", p) for p in rel[2:5]), rel
        with open(f) as fh:
            for line in fh:
                out.append((rel[0], json.loads(line)))  # every line parses: no torn lines
    return out


def test_every_invocation_is_captured_in_sagemaker_format(mlgw, tmp_path):
    stack = write(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    c = mlgw.client(stack)
    for i in range(60):
        kw = {"InferenceId": f"req-{i}"} if i % 2 == 0 else {}
        c.invoke_endpoint(EndpointName="scored", Body=f"{i},50,1".encode(), ContentType="text/csv", **kw)
    for i in range(5):
        c.invoke_endpoint(EndpointName="scored", Body=json.dumps({"instances": [[i, 1, 1]]}),
                          ContentType="application/json", Accept="application/json")
    time.sleep(0.6)
    got = records(mlgw)
    assert len(got) == 65
    csv = [r for _, r in got if r["captureData"]["endpointInput"]["encoding"] == "CSV"]
    assert len(csv) == 60
    r = csv[0]
    assert r["eventVersion"] == "0"
    assert r["captureData"]["endpointInput"]["mode"] == "INPUT"
    assert r["captureData"]["endpointInput"]["observedContentType"] == "text/csv"
    assert r["captureData"]["endpointOutput"]["mode"] == "OUTPUT"
    assert r["captureData"]["endpointOutput"]["encoding"] == "CSV"
    assert 0 < float(r["captureData"]["endpointOutput"]["data"]) < 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["eventMetadata"]["inferenceTime"])
    assert len({x["eventMetadata"]["eventId"] for _, x in got}) == 65
    ids = sorted(x["eventMetadata"]["inferenceId"] for _, x in got if "inferenceId" in x["eventMetadata"])
    assert ids == sorted(f"req-{i}" for i in range(0, 60, 2))
    inputs = sorted(int(x["captureData"]["endpointInput"]["data"].split(",")[0]) for x in csv)
    assert inputs == list(range(60))
    js = [r for _, r in got if r["captureData"]["endpointInput"]["encoding"] == "JSON"]
    assert len(js) == 5 and "predictions" in json.loads(js[0]["captureData"]["endpointOutput"]["data"])
    assert {v for v, _ in got} == {"a", "b"}
    status = mlgw.status(stack)["host"]["endpoints"][0]
    assert status["captured"] == 65 and status["captureDropped"] == 0


def test_sampling_modes_and_a_clean_shutdown_loses_nothing(mlgw, tmp_path):
    stack = write(tmp_path, percent=30, modes="input")
    mlgw.run("apply", stack, "--auto-approve")
    c = mlgw.client(stack)
    for i in range(400):
        c.invoke_endpoint(EndpointName="scored", Body=b"1,2,3", ContentType="text/csv")
    captured = mlgw.status(stack)["host"]["endpoints"][0]["captured"]
    assert 80 <= captured <= 160, captured  # 30% of 400, binomial sd about 9
    # Destroy at once: the queue is drained before the host exits.
    mlgw.run("destroy", stack, "--auto-approve")
    got = records(mlgw)
    assert len(got) == captured
    assert all("endpointOutput" not in r["captureData"] for _, r in got)


def test_changing_capture_settings_is_in_place(mlgw, tmp_path):
    stack = write(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    before = mlgw.instances(stack)
    path = write(tmp_path, percent=0)
    plan = mlgw.run("plan", path).stdout
    assert "~ data_capture.sample_percent = 100 -> 0  # in place, no restart" in plan
    mlgw.run("apply", path, "--auto-approve")
    assert mlgw.instances(stack) == before
    c = mlgw.client(stack)
    for _ in range(20):
        c.invoke_endpoint(EndpointName="scored", Body=b"1,2,3", ContentType="text/csv")
    time.sleep(0.6)
    assert records(mlgw) == []
