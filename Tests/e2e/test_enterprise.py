"""stacks/enterprise: a feature group feeding a fraud endpoint three ways - direct (v1), through a
function that reads features with boto3 (v2), and enriched by the gateway itself (v3)."""
import json
import math
import os
import re
import urllib.request

from conftest import ROOT

STACK = os.path.join(ROOT, "stacks", "enterprise")
MODELS = {name: json.load(open(os.path.join(ROOT, "examples", "models", f"enterprise-{v}.json"))) for name, v in [("current", "v1"), ("challenger", "v2")]}
CUSTOMERS = {line.split(",")[0]: line.strip().split(",") for line in open(os.path.join(ROOT, "examples", "data", "customers.csv")).readlines()[1:]}


def expected(variant, row):
    m = MODELS[variant]
    z = sum(w * x for w, x in zip(m["coefficients"], row)) + m["intercept"]
    return 1 / (1 + math.exp(-z))


def post(url, body, headers=None):
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers=dict({"content-type": "text/csv"}, **(headers or {})))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def test_the_three_paths_score_alike_with_the_stored_features(mlgw):
    plan = mlgw.run("plan", STACK).stdout
    assert "feature_groups.customers will be created" in plan and re.search(r"\+ routes\[POST /score/{customer_id}\]\.enrich\.features +\= \"age,spend_30d\"", plan)
    mlgw.run("apply", STACK, "--auto-approve")
    txn = [120.5, 3, 0.4, 2]
    c = CUSTOMERS["c0001"]
    stored = [float(c[2]), float(c[3])]  # age, spend_30d
    # v1: the caller sends all six features.
    status, headers, body = post(mlgw.output(STACK, "v1_url") + "/score", ",".join(map(str, txn + stored)))
    assert status == 200
    variant = headers["x-amzn-invoked-production-variant"]
    assert math.isclose(float(body), expected(variant, txn + stored), rel_tol=1e-9)
    # v2: the function reads the features with boto3.
    status, _, body = post(mlgw.output(STACK, "v2_url") + "/score/c0001", "120.5,3,0.4,2")
    assert status == 200, body
    answer = json.loads(body)
    assert math.isclose(answer["fraud_probability"], expected(answer["variant"], txn + stored), abs_tol=1e-6)
    # v3: the gateway appends them itself.
    for _ in range(20):
        status, headers, body = post(mlgw.output(STACK, "v3_url") + "/score/c0001", "120.5,3,0.4,2")
        assert status == 200, body
        assert math.isclose(float(body), expected(headers["x-amzn-invoked-production-variant"], txn + stored), rel_tol=1e-9)
    # An unknown customer: 404 on the strict route, the defaults on the other.
    status, _, body = post(mlgw.output(STACK, "v3_url") + "/score/nobody", "120.5,3,0.4,2")
    assert status == 404 and "no record 'nobody' in feature group customers" in body
    status, headers, body = post(mlgw.output(STACK, "v3_url") + "/score-or-default/nobody", "120.5,3,0.4,2")
    assert status == 200 and math.isclose(float(body), expected(headers["x-amzn-invoked-production-variant"], txn + [40, 0]), rel_tol=1e-9)
    status, _, body = post(mlgw.output(STACK, "v2_url") + "/score/nobody", "120.5,3,0.4,2")
    assert status == 404


def test_enrichment_takes_the_identifier_from_a_header_or_a_json_field(mlgw, tmp_path):
    model = os.path.join(ROOT, "examples", "models", "enterprise-v1.json")
    data = os.path.join(ROOT, "examples", "data", "customers.csv")
    stack = tmp_path / "enrich.yaml"
    stack.write_text(f"""stack: enrich
models:
  m: {{runtime: linear, artifact: {model}}}
endpoints:
  e:
    variants: {{only: {{model: m}}}}
feature_groups:
  customers:
    record_identifier: customer_id
    event_time: event_time
    features: {{customer_id: String, event_time: Fractional, age: Integral, spend_30d: Fractional, country: String, segment: String}}
    load: {data}
gateway:
  stages:
    s:
      routes:
        POST /by-header:
          endpoint: e
          enrich: {{feature_group: customers, record_identifier: {{header: X-Customer-Id}}, features: [age, spend_30d]}}
        POST /by-json:
          endpoint: e
          enrich: {{feature_group: customers, record_identifier: {{json: customer}}, features: [age, spend_30d]}}
""")
    mlgw.run("apply", stack, "--auto-approve")
    status = mlgw.status(stack)
    base = f"http://127.0.0.1:{status['host']['gatewayPort']}/s"
    c = CUSTOMERS["c0002"]
    want = expected("current", [120.5, 3, 0.4, 2, float(c[2]), float(c[3])])
    s, _, body = post(base + "/by-header", "120.5,3,0.4,2", {"X-Customer-Id": "c0002"})
    assert s == 200 and math.isclose(float(body), want, rel_tol=1e-9)
    s, _, body = post(base + "/by-header", "120.5,3,0.4,2")
    assert s == 400 and "gives no record identifier (header.x-customer-id)" in body
    s, _, body = post(base + "/by-json", json.dumps({"customer": "c0002", "features": [120.5, 3, 0.4, 2]}), {"content-type": "application/json"})
    assert s == 200 and math.isclose(float(body), want, rel_tol=1e-9)
    s, _, body = post(base + "/by-json", "not json", {"content-type": "application/json"})
    assert s == 400 and "is not a JSON object" in body
