"""Multi-model endpoints: 1,000 models behind one endpoint, picked with TargetModel."""
import json
import os
import time
import urllib.request

import pytest

from conftest import ROOT


def make_models(folder, n):
    folder.mkdir()
    for i in range(n):
        # Regression: the answer for row (1, 2, 3) is i + 2, so every model is told apart.
        (folder / f"customer-{i:04d}.json").write_text(json.dumps({"objective": "regression", "coefficients": [i, 1, 0], "intercept": 0}))


def stack_file(tmp_path, folder, cache=100, instances=2):
    path = tmp_path / "mme.yaml"
    path.write_text(f"""stack: mme
endpoints:
  per-customer:
    multi_model:
      artifacts: {folder}
      runtime: linear
      cache: {{models: {cache}}}
    instances: {instances}
""")
    return str(path)


def test_a_thousand_models_behind_one_endpoint(mlgw, tmp_path):
    folder = tmp_path / "models"
    make_models(folder, 1000)
    stack = stack_file(tmp_path, folder)
    out = mlgw.run("plan", stack).stdout
    assert "+ multi_model.artifacts" in out and "+ instances" in out
    mlgw.run("apply", stack, "--auto-approve")
    c = mlgw.client(stack)
    first_calls = []
    for i in range(1000):
        t = time.perf_counter()
        r = c.invoke_endpoint(EndpointName="per-customer", TargetModel=f"customer-{i:04d}.json", Body=b"1,2,3", ContentType="text/csv")
        first_calls.append(time.perf_counter() - t)
        assert float(r["Body"].read()) == i + 2
        assert r["InvokedProductionVariant"] == "AllTraffic"
    first_calls.sort()
    assert first_calls[len(first_calls) // 2] < 0.05  # median first call, client included
    # Each model sticks to one instance; each instance keeps at most 100 loaded.
    instances = mlgw.instances(stack)["AllTraffic"]
    assert len(instances) == 2
    stats = [json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/models").read())
             for port in (i[0] for i in [(s["port"],) for e in mlgw.status(stack)["host"]["endpoints"] for v in e["variants"] for s in v["instances"]])]
    assert sum(s["loads"] for s in stats) == 1000
    assert all(len(s["models"]) <= 100 for s in stats) and sum(s["evictions"] for s in stats) >= 800
    # A model loaded again after eviction still answers; a recent one is a cache hit.
    r = c.invoke_endpoint(EndpointName="per-customer", TargetModel="customer-0000.json", Body=b"1,2,3", ContentType="text/csv")
    assert float(r["Body"].read()) == 2


def test_target_model_errors_and_a_live_folder(mlgw, tmp_path):
    folder = tmp_path / "models"
    make_models(folder, 3)
    stack = stack_file(tmp_path, folder, cache=2, instances=1)
    mlgw.run("apply", stack, "--auto-approve")
    c = mlgw.client(stack)
    with pytest.raises(c.exceptions.ValidationError, match="TargetModel"):
        c.invoke_endpoint(EndpointName="per-customer", Body=b"1,2,3", ContentType="text/csv")
    with pytest.raises(c.exceptions.ValidationError, match="not in the artifacts"):
        c.invoke_endpoint(EndpointName="per-customer", TargetModel="nobody.json", Body=b"1,2,3", ContentType="text/csv")
    with pytest.raises(c.exceptions.ValidationError, match="not in the artifacts"):
        c.invoke_endpoint(EndpointName="per-customer", TargetModel="../models/customer-0001.json", Body=b"1,2,3", ContentType="text/csv")
    # As with an S3 prefix, a model added to the folder is served without an apply.
    (folder / "group").mkdir()
    (folder / "group" / "new.json").write_text(json.dumps({"objective": "regression", "coefficients": [0, 0, 10], "intercept": 1}))
    r = c.invoke_endpoint(EndpointName="per-customer", TargetModel="group/new.json", Body=b"1,2,3", ContentType="text/csv")
    assert float(r["Body"].read()) == 31
    assert mlgw.run("plan", stack, "--detailed-exitcode", check=False).returncode == 0


def test_your_own_multi_model_server_gets_models_loaded_and_unloaded(mlgw, tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    for i in range(8):
        (folder / f"r{i}.json").write_text(json.dumps({"weights": [0, 0, 0], "bias": i - 4}))
    stack = tmp_path / "own.yaml"
    # The server holds at most 3 models (then answers 507); the router keeps at most 10 per instance,
    # so room is made by unloading on 507.
    stack.write_text(f"""stack: own-mme
models:
  rules-server:
    command: [python3, {ROOT}/examples/servers/serve.py]
    environment: {{MAX_MODELS: "3"}}
endpoints:
  rules:
    multi_model: {{artifacts: {folder}, server: rules-server, cache: {{models: 10}}}}
""")
    mlgw.run("apply", str(stack), "--auto-approve")
    c = mlgw.client(str(stack))
    import math
    for round_ in range(2):
        for i in range(8):
            r = c.invoke_endpoint(EndpointName="rules", TargetModel=f"r{i}.json", Body=b"1,2,3", ContentType="text/csv")
            assert float(r["Body"].read()) == pytest.approx(1 / (1 + math.exp(-(i - 4))), abs=1e-6)
    port = mlgw.status(str(stack))["host"]["endpoints"][0]["variants"][0]["instances"][0]["port"]
    loaded = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/models").read())["models"]
    assert len(loaded) <= 3
    with pytest.raises(c.exceptions.ValidationError, match="could not be loaded"):
        c.invoke_endpoint(EndpointName="rules", TargetModel="missing.json", Body=b"1,2,3", ContentType="text/csv")


def test_a_multi_model_server_must_have_a_command(mlgw, tmp_path):
    stack = tmp_path / "bad.yaml"
    stack.write_text(f"""stack: bad-mme
models:
  plain: {{runtime: linear, artifact: {ROOT}/examples/models/churn-v1.json}}
endpoints:
  e:
    multi_model: {{artifacts: {tmp_path}, server: plain}}
""")
    p = mlgw.run("validate", str(stack), check=False)
    assert p.returncode == 1 and "model 'plain' serving multi-model endpoint 'e' has no 'command'" in p.stderr
