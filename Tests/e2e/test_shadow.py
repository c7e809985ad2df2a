"""Shadow variants: copies of traffic, answers kept and compared, never seen by callers."""
import glob
import json
import os
import time

import numpy as np
import pytest

STACK = "stacks/shadow.yaml"


def report(mlgw, stack=STACK):
    return json.loads(mlgw.run("report", "shadow", stack, "--json").stdout)


def kept(mlgw, stack="shadow", endpoint="churn", shadow="candidate"):
    files = glob.glob(os.path.join(mlgw.state_dir, stack, "default", "shadow", endpoint, shadow, "*", "*", "*", "*", "*.jsonl"))
    return [json.loads(line) for f in sorted(files) for line in open(f)]


def test_a_shadow_gets_a_sampled_copy_and_is_compared(mlgw):
    mlgw.run("apply", STACK, "--auto-approve")
    c = mlgw.client(STACK)
    rng = np.random.default_rng(1)
    for i in range(400):
        row = f"{rng.integers(1, 70)},{rng.uniform(20, 120):.2f},{rng.integers(0, 5)}"
        r = c.invoke_endpoint(EndpointName="churn", Body=row.encode(), ContentType="text/csv", InferenceId=f"id-{i}")
        assert r["InvokedProductionVariant"] == "live"
    time.sleep(0.6)
    (row,) = report(mlgw)
    cmp = row["comparison"]
    assert row["endpoint"] == "churn" and cmp["shadow"] == "candidate"
    assert 150 <= cmp["sent"] <= 250, cmp  # 50% of 400
    assert cmp["compared"] == cmp["sent"] and cmp["shadowErrors"] == 0 and cmp["productionErrors"] == 0
    assert cmp["numericPairs"] == cmp["compared"]
    # The kept outputs agree with the report: recompute the mean absolute difference from them.
    pairs = kept(mlgw)
    assert len(pairs) == cmp["compared"]
    diffs = [abs(float(p["production"]["output"]) - float(p["shadow"]["output"])) for p in pairs]
    assert cmp["meanAbsoluteDifference"] == pytest.approx(np.mean(diffs), rel=1e-9)
    assert cmp["meanAbsoluteDifference"] > 0  # two different models
    assert all(p["production"]["variant"] == "live" and p["inferenceId"].startswith("id-") for p in pairs)
    assert cmp["productionLatencyMs"]["p50"] > 0 and cmp["shadowLatencyMs"]["p99"] >= cmp["shadowLatencyMs"]["p50"]
    text = mlgw.run("report", "shadow", STACK).stdout
    assert "shadow 'candidate' against production" in text and "mean abs difference" in text
    with pytest.raises(c.exceptions.ValidationError, match="is a shadow variant"):
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv", TargetVariant="candidate")


def test_a_failing_shadow_never_fails_the_caller(mlgw, tmp_path):
    from conftest import ROOT
    stack = tmp_path / "s.yaml"
    stack.write_text(f"""stack: shadow-fail
models:
  good: {{runtime: linear, artifact: {ROOT}/examples/models/churn-v1.json}}
  narrow: {{runtime: linear, artifact: {tmp_path}/narrow.json}}
endpoints:
  churn:
    variants:
      live: {{model: good}}
      broken: {{model: narrow, shadow: true}}
""")
    # A model expecting 2 features: every 3-feature request fails on the shadow.
    (tmp_path / "narrow.json").write_text('{"objective": "logistic", "coefficients": [1, 2], "intercept": 0}')
    mlgw.run("apply", str(stack), "--auto-approve")
    c = mlgw.client(str(stack))
    for _ in range(50):
        r = c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")
        assert r["InvokedProductionVariant"] == "live"
    time.sleep(0.3)
    (row,) = report(mlgw, str(stack))
    assert row["comparison"]["compared"] == 50 and row["comparison"]["shadowErrors"] == 50
    assert row["comparison"]["agreements"] == 0


def test_changing_the_sample_is_in_place(mlgw, workdir):
    stack = str(workdir / "stacks" / "shadow.yaml")
    mlgw.run("apply", stack, "--auto-approve")
    before = mlgw.instances(stack)
    path = workdir / "stacks" / "shadow.yaml"
    path.write_text(path.read_text().replace("sample_percent: 50", "sample_percent: 0"))
    plan = mlgw.run("plan", stack).stdout
    assert "~ variants.candidate.shadow_sample_percent = 50 -> 0  # in place, no restart" in plan
    mlgw.run("apply", stack, "--auto-approve")
    assert mlgw.instances(stack) == before
    c = mlgw.client(stack)
    for _ in range(30):
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")
    assert report(mlgw, stack)[0]["comparison"]["sent"] == 0
