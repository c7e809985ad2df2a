"""The built-in xgboost runtime against the xgboost package: same rows, same answers (1e-6)."""
import json
import os
import socket
import subprocess
import time
import urllib.request

import numpy as np
import pytest
import xgboost as xgb

from conftest import BIN, ROOT

OBJECTIVES = [
    ("binary:logistic", {}),
    ("reg:squarederror", {}),
    ("reg:logistic", {}),
    ("multi:softprob", {"num_class": 3}),
    ("multi:softmax", {"num_class": 3}),
    ("count:poisson", {}),
    ("binary:logitraw", {}),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def labels(objective, x, rng):
    if objective.startswith("multi"):
        return (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    if objective == "reg:squarederror":
        return x[:, 0] * 3 + x[:, 2] ** 2 + rng.normal(size=len(x)) * 0.1
    if objective == "count:poisson":
        return rng.poisson(np.exp(0.5 * x[:, 0]))
    if objective == "reg:logistic":
        return 1 / (1 + np.exp(-x[:, 0] - x[:, 3]))
    return (x[:, 0] + 0.5 * x[:, 1] - x[:, 4] > 0).astype(int)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rng = np.random.default_rng(42)
    full = rng.normal(size=(600, 6))
    x = full.copy()
    x[rng.uniform(size=x.shape) < 0.08] = np.nan  # missing values take each node's default direction
    models = {}
    for objective, extra in OBJECTIVES:
        booster = xgb.train({"objective": objective, "max_depth": 5, "eta": 0.3, "seed": 1, **extra},
                            xgb.DMatrix(x, label=labels(objective, full, rng)), num_boost_round=30)
        path = tmp_path_factory.mktemp("xgb") / (objective.replace(":", "_") + ".json")
        booster.save_model(str(path))
        models[objective] = (path, booster)
    test = rng.normal(size=(200, 6)) * 1.5
    test[rng.uniform(size=test.shape) < 0.1] = np.nan
    return models, test


def serve(path):
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "model", "--runtime", "xgboost", "--artifact", str(path)],
                            env=dict(os.environ, SAGEMAKER_BIND_TO_PORT=str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise AssertionError(proc.stdout.read().decode())


def invoke(port, body, content_type, accept):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body.encode(), method="POST",
                                 headers={"Content-Type": content_type, "Accept": accept})
    return urllib.request.urlopen(req).read().decode()


@pytest.mark.parametrize("objective", [o for o, _ in OBJECTIVES])
def test_predictions_equal_the_xgboost_package(trained, objective):
    models, test = trained
    path, booster = models[objective]
    expected = booster.predict(xgb.DMatrix(test)).reshape(len(test), -1)
    proc, port = serve(path)
    try:
        csv = "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in test)
        got_csv = np.array([[float(v) for v in line.split(",")] for line in invoke(port, csv, "text/csv", "text/csv").split()])
        instances = [[None if np.isnan(v) else float(v) for v in row] for row in test]
        got_json = np.array(json.loads(invoke(port, json.dumps({"instances": instances}), "application/json", "application/json"))["predictions"])
    finally:
        proc.terminate()
        proc.wait(5)
    assert got_csv.shape == expected.shape
    np.testing.assert_allclose(got_csv, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got_json.reshape(expected.shape), expected, rtol=0, atol=1e-6)


def test_an_xgboost_stack_serves_through_boto3(mlgw):
    mlgw.run("apply", "stacks/xgboost.yaml", "--auto-approve")
    c = mlgw.client("stacks/xgboost.yaml")
    booster = xgb.Booster(model_file=os.path.join(ROOT, "examples", "models", "churn-xgb.json"))
    rows = np.array([[12, 80.5, 3], [60, 30, 0], [5, np.nan, 1]])
    expected = booster.predict(xgb.DMatrix(rows, feature_names=booster.feature_names))
    r = c.invoke_endpoint(EndpointName="churn", Body=b"12,80.5,3\n60,30,0\n5,,1", ContentType="text/csv", TargetVariant="trees")
    assert r["InvokedProductionVariant"] == "trees"
    np.testing.assert_allclose([float(v) for v in r["Body"].read().split()], expected, atol=1e-6)
