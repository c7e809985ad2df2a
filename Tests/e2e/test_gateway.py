"""The gateway end to end: the example stack's two integrations with curl-like calls, every
authorization failure, throttling and quotas, timeouts and failing integrations, CORS, the access
log and metrics, secrets kept out of plans, state and logs, and route changes under load."""
import base64
import json
import os
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import wait_for, ROOT

sys.path.insert(0, os.path.join(ROOT, "examples", "keys"))
from mint_token import ISSUER, AUDIENCE, mint  # noqa: E402

API_KEY = "gw-test-key-" + "q" * 24
OTHER_KEY = "gw-other-key-" + "z" * 24


def call(url, method="POST", body=b"", headers=None, timeout=10):
    """(status, headers, body) without raising on 4xx/5xx."""
    req = urllib.request.Request(url, data=body if method not in ("GET", "OPTIONS") else None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def keys(monkeypatch):
    # Teardown's destroy reads the stack too, so the secrets live in the test's environment.
    monkeypatch.setenv("FRAUD_API_KEY", API_KEY)
    monkeypatch.setenv("OTHER_API_KEY", OTHER_KEY)


def test_the_example_serves_both_integrations(mlgw, keys):
    stack = "stacks/fraud-gateway.yaml"
    out = mlgw.run("apply", stack, "--auto-approve").stdout
    assert "Apply complete! Resources: 8 added" in out
    v1, v2 = mlgw.output(stack, "v1_url"), mlgw.output(stack, "v2_url")
    assert v1 == mlgw.output(stack, "gateway_url") + "/v1"

    # v1: straight to the endpoint, API key required, variant by weight or pinned by the path.
    seen = set()
    for _ in range(40):
        status, headers, body = call(v1 + "/fraud/score", body=b"420.5,3,0.8,7", headers={"x-api-key": API_KEY, "content-type": "text/csv"})
        assert status == 200 and 0 < float(body) < 1
        seen.add(headers["x-amzn-invoked-production-variant"])
    assert seen == {"current", "challenger"}
    status, headers, _ = call(v1 + "/fraud/score/challenger", body=b"420.5,3,0.8,7", headers={"x-api-key": API_KEY, "content-type": "text/csv"})
    assert status == 200 and headers["x-amzn-invoked-production-variant"] == "challenger"
    status, _, body = call(v1 + "/fraud/score/nope", body=b"1,2,3,4", headers={"x-api-key": API_KEY, "content-type": "text/csv"})
    assert status == 400 and b"no variant nope" in body
    status, _, body = call(v1 + "/health", method="GET")
    assert (status, body) == (200, b'{"status":"ok"}')

    # v2: a function validates, reshapes, calls the endpoint with boto3 and answers JSON.
    token = mint()
    request = json.dumps({"amount": 420.5, "hour": 3, "merchant_risk": 0.8, "txn_count_24h": 7}).encode()
    status, headers, body = call(v2 + "/fraud/score", body=request, headers={"authorization": f"Bearer {token}"})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["caller"] == "alice" and answer["variant"] in ("current", "challenger") and 0 < answer["fraud_probability"] < 1
    assert headers["access-control-allow-origin"] == "*"
    status, _, body = call(v2 + "/fraud/score", body=request, headers={"authorization": f"Bearer {token}", "x-variant": "challenger"})
    assert json.loads(body)["variant"] == "challenger"
    status, _, body = call(v2 + "/fraud/score", body=b'{"amount": "lots"}', headers={"authorization": f"Bearer {token}"})
    assert status == 400 and "amount" in json.loads(body)["fields"]
    # Both paths score the same row with the same model the same way.
    direct = float(call(v1 + "/fraud/score/current", body=b"420.5,3,0.8,7", headers={"x-api-key": API_KEY, "content-type": "text/csv"})[2])
    via_function = json.loads(call(v2 + "/fraud/score", body=request, headers={"authorization": f"Bearer {token}", "x-variant": "current"})[2])
    assert abs(via_function["fraud_probability"] - direct) < 1e-5

    # CORS preflight on v2.
    status, headers, _ = call(v2 + "/fraud/score", method="OPTIONS", headers={"origin": "https://app.example", "access-control-request-method": "POST"})
    assert status == 204 and headers["access-control-allow-methods"] == "POST" and headers["access-control-max-age"] == "600"
    assert "x-variant" in headers["access-control-allow-headers"]


def test_every_authorization_failure_answers_as_api_gateway(mlgw, keys, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    # A JWKS with the example's RSA key and an EC P-256 key of the test's own.
    jwks = json.load(open(os.path.join(ROOT, "examples", "keys", "jwks.json")))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    nums = ec_key.public_key().public_numbers()
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    jwks["keys"].append({"kty": "EC", "crv": "P-256", "kid": "ec-1", "x": b64(nums.x.to_bytes(32, "big")), "y": b64(nums.y.to_bytes(32, "big"))})
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    shutil.copy(os.path.join(ROOT, "examples", "models", "fraud-v1.json"), tmp_path / "m.json")
    stack = tmp_path / "auth.yaml"
    stack.write_text(f"""stack: auth
variables:
  key: {{type: string, sensitive: true, from_env: FRAUD_API_KEY}}
  other: {{type: string, sensitive: true, from_env: OTHER_API_KEY}}
models:
  m: {{runtime: linear, artifact: m.json}}
endpoints:
  e:
    variants: {{main: {{model: m}}}}
gateway:
  usage_plans:
    gold: {{stages: [v1]}}
    elsewhere: {{stages: [v2]}}
  api_keys:
    good: {{value: "${{var.key}}", usage_plan: gold}}
    wrong-stage: {{value: "${{var.other}}", usage_plan: elsewhere}}
  authorizers:
    idp: {{issuer: "{ISSUER}", audiences: [{AUDIENCE}], jwks_file: jwks.json}}
  stages:
    v1:
      routes:
        POST /score: {{endpoint: e, auth: api_key}}
        POST /jwt: {{endpoint: e, auth: {{jwt: idp, scopes: [fraud:score]}}}}
    v2:
      routes:
        POST /score: {{endpoint: e, auth: api_key}}
""")
    mlgw.run("apply", str(stack), "--auto-approve")
    gw = mlgw.output(str(stack), "gateway_url")
    row = b"100,3,0.5,2"

    def score(path, headers):
        status, _, body = call(gw + path, body=row, headers={"content-type": "text/csv", **headers})
        return status, json.loads(body) if body.startswith(b"{") else float(body)

    assert score("/v1/score", {"x-api-key": API_KEY})[0] == 200
    assert score("/v1/score", {}) == (403, {"message": "Forbidden"})
    assert score("/v1/score", {"x-api-key": API_KEY + "x"}) == (403, {"message": "Forbidden"})
    assert score("/v1/score", {"x-api-key": OTHER_KEY}) == (403, {"message": "Forbidden"}), "a key whose plan does not cover the stage"
    assert score("/v2/score", {"x-api-key": OTHER_KEY})[0] == 200
    assert score("/v3/score", {"x-api-key": API_KEY}) == (404, {"message": "Not Found"})
    assert score("/v1/nothing", {"x-api-key": API_KEY}) == (404, {"message": "Not Found"})

    def es256(claims):
        header = {"alg": "ES256", "typ": "JWT", "kid": "ec-1"}
        signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        r, s = decode_dss_signature(ec_key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
        return signing + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    now = int(time.time())
    good = {"iss": ISSUER, "aud": AUDIENCE, "sub": "bob", "scope": "fraud:score", "exp": now + 600}
    assert score("/v1/jwt", {"authorization": f"Bearer {mint()}"})[0] == 200, "RS256"
    assert score("/v1/jwt", {"authorization": f"Bearer {es256(good)}"})[0] == 200, "ES256"
    unauthorized = (401, {"message": "Unauthorized"})
    assert score("/v1/jwt", {}) == unauthorized
    assert score("/v1/jwt", {"authorization": "Bearer not.a.token"}) == unauthorized
    assert score("/v1/jwt", {"authorization": f"Bearer {mint(ttl=-10)}"}) == unauthorized, "expired"
    assert score("/v1/jwt", {"authorization": f"Bearer {mint(issuer='https://evil/')}"}) == unauthorized, "issuer"
    assert score("/v1/jwt", {"authorization": f"Bearer {mint(audience='other-api')}"}) == unauthorized, "audience"
    tampered = es256(good).rsplit(".", 1)[0] + "." + b64(b"\x00" * 64)
    assert score("/v1/jwt", {"authorization": f"Bearer {tampered}"}) == unauthorized, "signature"
    assert score("/v1/jwt", {"authorization": f"Bearer {es256({**good, 'scope': 'read'})}"}) == (403, {"message": "Forbidden"}), "scopes"
    status, headers, _ = call(gw + "/v1/jwt", body=row, headers={"content-type": "text/csv"})
    assert headers.get("www-authenticate", "").startswith("Bearer")


def function_stack(tmp_path, extra_routes="", plan="{throttle: {rate: 20, burst: 5}}", timeout="500ms", gateway_extra=""):
    (tmp_path / "fn").mkdir(exist_ok=True)
    (tmp_path / "fn" / "app.py").write_text('''
import json, time

def handler(event, context):
    body = json.loads(event.get("body") or "{}")
    if body.get("raise"):
        raise RuntimeError("boom")
    if body.get("sleep"):
        time.sleep(body["sleep"])
    if body.get("bad"):
        return {"statusCode": "not a number"}
    return {"statusCode": 201, "headers": {"x-handled-by": context.function_name},
            "body": json.dumps({"version": event.get("version", "1.0"), "path": event.get("rawPath") or event.get("path"),
                                "params": event.get("pathParameters"), "query": event.get("queryStringParameters"),
                                "resource": event.get("resource"), "routeKey": event.get("routeKey"),
                                "keyId": (event["requestContext"].get("identity") or {}).get("apiKeyId")
                                         or (event["requestContext"].get("authentication") or {}).get("apiKeyId")})}
''')
    stack = tmp_path / "gw.yaml"
    stack.write_text(f"""stack: gw
variables:
  key: {{type: string, sensitive: true, from_env: FRAUD_API_KEY}}
functions:
  app:
    runtime: python3
    handler: fn/app.handler
    timeout: 5s
    provisioned_concurrency: 1
    reserved_concurrency: 2
gateway:
  usage_plans:
    plan: {plan}
  api_keys:
    ci: {{value: "${{var.key}}", usage_plan: plan}}
{gateway_extra}  stages:
    api:
      max_body: 1000
      defaults: {{timeout: {timeout}}}
      routes:
        POST /v2/{{proxy+}}: {{function: app}}
        GET /v1/items/{{id}}: {{function: app, payload: "1.0", auth: api_key}}
        POST /limited: {{function: app, auth: api_key}}
        GET /ping: {{mock: {{status: 200, body: pong, content_type: text/plain}}}}
{extra_routes}""")
    return str(stack)


def test_function_routes_proxy_events_and_failures(mlgw, keys, tmp_path):
    stack = function_stack(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    gw = mlgw.output(stack, "gateway_url") + "/api"

    status, headers, body = call(gw + "/v2/a/b/c?x=1&y=2", body=b"{}")
    assert status == 201 and headers["x-handled-by"] == "app"
    event = json.loads(body)
    assert event["version"] == "2.0" and event["params"] == {"proxy": "a/b/c"} and event["query"] == {"x": "1", "y": "2"}
    assert event["routeKey"] == "POST /v2/{proxy+}" and event["path"] == "/api/v2/a/b/c"

    status, _, body = call(gw + "/v1/items/42", method="GET", headers={"x-api-key": API_KEY})
    event = json.loads(body)
    assert status == 201 and event["version"] == "1.0" and event["params"] == {"id": "42"}
    assert event["resource"] == "/v1/items/{id}" and event["path"] == "/v1/items/42" and event["keyId"] == "ci"

    assert call(gw + "/ping", method="GET")[2] == b"pong"
    assert call(gw + "/v2/x", body=b'{"raise": true}') [:1] == (502,)
    assert json.loads(call(gw + "/v2/x", body=b'{"raise": true}')[2]) == {"message": "Internal server error"}
    assert call(gw + "/v2/x", body=b'{"bad": true}')[0] == 502
    t = time.monotonic()
    status, _, body = call(gw + "/v2/x", body=b'{"sleep": 2}')
    assert status == 504 and json.loads(body) == {"message": "Endpoint request timed out"}
    assert time.monotonic() - t < 1.5
    assert call(gw + "/v2/x", body=b"x" * 1001)[:1] == (413,)
    assert json.loads(call(gw + "/v2/x", body=b"x" * 1001)[2]) == {"message": "Request Too Long"}

    # Both workers busy with slow calls: the function is at its limit, and the gateway says so.
    # (The call the gateway gave up on above still runs in its worker, as on AWS: let it end.)
    # Two warm, idle workers first, so that no call of the burst waits for a worker to start (a
    # cold start on a loaded machine outlasted the route's 500 ms timeout).
    def app_workers():
        f = next(f for f in mlgw.status(stack)["host"]["functions"] if f["name"] == "app")
        return [w["state"] for w in f["workers"]]
    wait_for(lambda: app_workers() and all(s == "idle" for s in app_workers()), timeout=10, what="the timed-out call to end")
    warm = [threading.Thread(target=lambda: call(gw + "/v2/slow", body=b'{"sleep": 0.1}')) for _ in range(2)]
    for th in warm:
        th.start()
    for th in warm:
        th.join()
    wait_for(lambda: app_workers().count("idle") == 2, timeout=10, what="two idle workers")
    results = []
    threads = [threading.Thread(target=lambda: results.append(call(gw + "/v2/slow", body=b'{"sleep": 0.4}')[0])) for _ in range(3)]
    for th in threads:
        th.start()
        time.sleep(0.03)
    for th in threads:
        th.join()
    assert sorted(results) == [201, 201, 503], results

    # The access log: one JSON line per request, with the key's id and never the key.
    log = os.path.join(mlgw.state_dir, "gw", "default", "logs", "gateway", "access.log")
    time.sleep(0.2)
    lines = [json.loads(line) for line in open(log)]
    assert {"requestId", "stage", "route", "status", "latencyMs", "integrationLatencyMs", "apiKeyId"} <= set(lines[0])
    assert any(line["apiKeyId"] == "ci" and line["route"] == "GET /v1/items/{id}" for line in lines)
    assert any(line["status"] == 504 for line in lines) and any(line["status"] == 413 for line in lines)
    for root, _, files in os.walk(mlgw.state_dir):
        for f in files:
            path = os.path.join(root, f)
            if os.path.getsize(path) < 5_000_000:
                assert API_KEY.encode() not in open(path, "rb").read(), f"the API key is in {path}"
    assert API_KEY not in mlgw.run("plan", stack).stdout + mlgw.run("status", stack).stdout

    metrics = urllib.request.urlopen(mlgw.output(stack, "metrics_url")).read().decode()
    assert 'mlgw_gateway_requests_total{stage="api",route="GET /v1/items/{id}"} 1' in metrics
    assert 'mlgw_gateway_errors_total{stage="api",route="POST /v2/{proxy+}",class="5xx"}' in metrics


def test_throttling_follows_the_token_bucket_and_quota_survives_a_restart(mlgw, keys, tmp_path):
    stack = function_stack(tmp_path, plan="{throttle: {rate: 20, burst: 5}, quota: {limit: 200, period: day}}")
    mlgw.run("apply", stack, "--auto-approve")
    gw = mlgw.output(stack, "gateway_url") + "/api"
    headers = {"x-api-key": API_KEY}

    # 3 seconds of calls as fast as one client goes: burst 5 plus 20 a second get through.
    ok = throttled = 0
    start = time.monotonic()
    while time.monotonic() - start < 3:
        status, _, body = call(gw + "/limited", body=b"{}", headers=headers)
        if status == 201:
            ok += 1
        else:
            assert status == 429 and json.loads(body) == {"message": "Too Many Requests"}
            throttled += 1
    elapsed = time.monotonic() - start
    expected = 5 + 20 * elapsed
    assert abs(ok - expected) <= 0.1 * expected, (ok, expected)
    assert throttled > 0

    # The quota (200 a day) counts every admitted request, and survives the host's death.
    used = ok
    host = mlgw.status(stack)["host"]["pid"]
    os.kill(host, 9)
    time.sleep(0.3)
    mlgw.run("apply", stack, "--auto-approve")
    gw = mlgw.output(stack, "gateway_url") + "/api"
    limit_hit = None
    for i in range(400):
        status, _, body = call(gw + "/limited", body=b"{}", headers=headers)
        if status == 429 and json.loads(body)["message"] == "Limit Exceeded":
            limit_hit = used + i
            break
        if status == 201:
            continue
        time.sleep(0.06)  # throttled: wait for a token
        used -= 1
    assert limit_hit is not None and abs(limit_hit - 200) <= 2, limit_hit


def test_quota_is_never_exceeded_when_the_host_is_killed_under_load(mlgw, keys, tmp_path):
    # A quota of 2000 reserves blocks of 20: a kill -9 mid-load may lose at most one block (and
    # the answers in flight), never let a request past the limit.
    limit, block, clients = 2000, 20, 4
    stack = function_stack(tmp_path, plan=f"{{throttle: {{rate: 100000, burst: 100000}}, quota: {{limit: {limit}, period: day}}}}",
                           extra_routes="        GET /m: {mock: {status: 200, body: ok}, auth: api_key}\n")
    headers = {"x-api-key": API_KEY}

    def hammer(gw, until):
        counts = {"ok": 0, "limit": 0}
        lock = threading.Lock()

        def client():
            while not until():
                try:
                    status, _, body = call(gw + "/m", method="GET", headers=headers, timeout=5)
                except OSError:
                    return  # the host is gone
                with lock:
                    if status == 200:
                        counts["ok"] += 1
                    elif status == 429 and json.loads(body)["message"] == "Limit Exceeded":
                        counts["limit"] += 1
                        return
                    else:
                        raise AssertionError((status, body))
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        return threads, counts

    mlgw.run("apply", stack, "--auto-approve")
    gw = mlgw.output(stack, "gateway_url") + "/api"
    host = mlgw.status(stack)["host"]["pid"]
    threads, first = hammer(gw, lambda: False)
    deadline = time.monotonic() + 60
    while first["ok"] < limit // 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(host, 9)  # while every client has a request on the wire
    for t in threads:
        t.join(60)
    assert limit // 2 <= first["ok"] < limit

    mlgw.run("apply", stack, "--auto-approve")
    gw = mlgw.output(stack, "gateway_url") + "/api"
    threads, second = hammer(gw, lambda: False)
    for t in threads:
        t.join(60)
    assert second["limit"] == clients
    # Requests admitted when the host died whose answers never came count too: one per client.
    admitted = first["ok"] + second["ok"]
    assert limit - block - clients <= admitted <= limit, admitted


def test_route_and_plan_changes_apply_in_place_under_load(mlgw, keys, tmp_path):
    stack = function_stack(tmp_path, plan="{throttle: {rate: 1000, burst: 1000}}", timeout="5s")
    mlgw.run("apply", stack, "--auto-approve")
    gw = mlgw.output(stack, "gateway_url") + "/api"
    host = mlgw.status(stack)["host"]["pid"]
    stop = threading.Event()
    statuses = []

    def load():
        while not stop.is_set():
            statuses.append(call(gw + "/v2/load", body=b"{}")[0])

    threads = [threading.Thread(target=load) for _ in range(2)]
    for th in threads:
        th.start()
    time.sleep(0.5)
    assert call(gw + "/new", method="GET")[0] == 404
    function_stack(tmp_path, plan="{throttle: {rate: 500, burst: 500}}", timeout="5s",
                   extra_routes="        GET /new: {mock: {status: 200, body: fresh}}\n")
    plan = mlgw.run("plan", stack).stdout
    assert "~ stages.api" in plan and "+ routes[GET /new].mock.body" in plan and "~ usage_plans.plan" in plan
    mlgw.run("apply", stack, "--auto-approve")
    assert call(gw + "/new", method="GET")[2] == b"fresh"
    time.sleep(0.5)
    stop.set()
    for th in threads:
        th.join()
    assert len(statuses) > 50 and set(statuses) == {201}, {s: statuses.count(s) for s in set(statuses)}
    assert mlgw.status(stack)["host"]["pid"] == host, "no restart"


def test_keys_rotate_in_place_route_overrides_throttle_and_jwks_come_from_a_url(mlgw, keys, tmp_path, monkeypatch):
    import http.server
    import socketserver

    jwks = open(os.path.join(ROOT, "examples", "keys", "jwks.json"), "rb").read()

    class JWKS(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args):
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0), JWKS)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stack = function_stack(
            tmp_path,
            plan="{throttle: {rate: 1000, burst: 1000}, routes: {'api POST /limited': {throttle: {rate: 2, burst: 2}}}}",
            extra_routes="        POST /jwt: {function: app, auth: idp}\n",
            gateway_extra=f"""  authorizers:
    idp: {{issuer: "{ISSUER}", audiences: [{AUDIENCE}], jwks_url: "http://127.0.0.1:{server.server_address[1]}/jwks.json"}}
""")
        mlgw.run("apply", stack, "--auto-approve")
        gw = mlgw.output(stack, "gateway_url") + "/api"
        host = mlgw.status(stack)["host"]["pid"]

        assert call(gw + "/jwt", body=b"{}", headers={"authorization": f"Bearer {mint()}"})[0] == 201
        # The plan's per-route override: 2 a second with a burst of 2 on this route only.
        statuses = [call(gw + "/limited", body=b"{}", headers={"x-api-key": API_KEY})[0] for _ in range(5)]
        assert statuses[:2] == [201, 201] and statuses.count(429) >= 2
        assert call(gw + "/v1/items/1", method="GET", headers={"x-api-key": API_KEY})[0] == 201, "other routes keep the plan's rate"

        # Rotate the key: the old value stops working, the new one works, nothing restarts.
        new_key = "rotated-key-" + "r" * 24
        monkeypatch.setenv("FRAUD_API_KEY", new_key)
        plan = mlgw.run("plan", stack).stdout
        assert "~ api_keys.ci" in plan and "value = (sensitive value) -> (sensitive value)" in plan
        assert API_KEY not in plan and new_key not in plan
        mlgw.run("apply", stack, "--auto-approve")
        assert call(gw + "/v1/items/1", method="GET", headers={"x-api-key": API_KEY})[0] == 403
        assert call(gw + "/v1/items/1", method="GET", headers={"x-api-key": new_key})[0] == 201
        assert mlgw.status(stack)["host"]["pid"] == host
        state = open(os.path.join(mlgw.state_dir, "gw", "default", "state.json")).read()
        assert new_key not in state and API_KEY not in state
    finally:
        server.shutdown()


def test_a_route_picks_the_target_model_of_a_multi_model_endpoint_from_the_path(mlgw, tmp_path):
    stack = tmp_path / "mm.yaml"
    stack.write_text(f"""stack: mm
endpoints:
  per-customer:
    multi_model: {{artifacts: {os.path.join(ROOT, "examples", "models", "per-customer")}, runtime: linear}}
gateway:
  stages:
    v1:
      routes:
        POST /customers/{{customer}}/score: {{endpoint: per-customer, target_model: {{path: customer}}}}
        POST /score: {{endpoint: per-customer, target_model: {{header: x-customer}}}}
""")
    mlgw.run("apply", str(stack), "--auto-approve")
    gw = mlgw.output(str(stack), "gateway_url") + "/v1"
    a = call(gw + "/customers/customer-001.json/score", body=b"12,80.5,3", headers={"content-type": "text/csv"})
    b = call(gw + "/score", body=b"12,80.5,3", headers={"content-type": "text/csv", "x-customer": "customer-002.json"})
    assert a[0] == 200 and b[0] == 200 and 0 < float(a[2]) < 1 and a[2] != b[2], "two customers, two models"
    status, _, body = call(gw + "/customers/nobody.json/score", body=b"12,80.5,3", headers={"content-type": "text/csv"})
    assert status == 400 and b"nobody.json" in body
    status, _, body = call(gw + "/score", body=b"12,80.5,3", headers={"content-type": "text/csv"})
    assert status == 400 and json.loads(body)["message"].startswith("Bad Request")
