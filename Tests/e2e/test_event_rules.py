"""Event rules end to end: validate rejects every invalid pattern of the conformance set where it is
written; boto3's events client and the AWS CLI call PutEvents and TestEventPattern; matches are
delivered to functions, the log and loopback URLs with their inputs; a failing target ends in the
dead-letter file; the clock moves schedules forward; a kill -9 of the host loses no accepted event."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest
from botocore.config import Config

from conftest import ROOT, process_alive, wait_for

CONFORMANCE = os.path.join(ROOT, "Tests", "EventsTests", "Conformance")

SINK = '''
import json, os
def handler(event, context):
    with open(os.environ["RECEIVED"], "a") as f:
        f.write(json.dumps(event) + "\\n")
    return {"ok": True}
'''


def events_client(mlgw, stack):
    url = mlgw.output(stack, "aws_endpoint_url")
    return boto3.client("events", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))


def write_stack(tmp_path, rules, functions=True):
    (tmp_path / "sink.py").write_text(SINK)
    received = tmp_path / "received.jsonl"
    text = "stack: events-test\n"
    if functions:
        text += f"functions:\n  sink:\n    runtime: python3\n    handler: sink.handler\n    environment: {{RECEIVED: {received}}}\n"
    text += "event_rules:\n" + rules
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    return str(path), received


def lines(path):
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


def test_every_invalid_conformance_pattern_is_a_located_validate_error(mlgw, tmp_path):
    cases = [json.loads(l) for l in open(os.path.join(CONFORMANCE, "invalid-patterns.jsonl"))]
    text = "stack: invalid-patterns\nevent_rules:\n"
    where = {}
    for i, c in enumerate(cases):
        pattern = c.get("pattern_raw") or json.dumps(c["pattern"])
        # Written as the JSON text EventBridge received (a YAML single-quoted string).
        text += f"  rule-{i}:\n    pattern: '{pattern.replace(chr(39), chr(39) * 2)}'\n    target: {{log: true}}\n"
        where[i] = text.count("\n") - 1
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    p = mlgw.run("validate", path, check=False)
    assert p.returncode == 1
    for i, c in enumerate(cases):
        line = f"stack.yaml:{where[i]}:14: error: the pattern of event rule 'rule-{i}' is not valid"
        assert line in p.stderr, (c["name"], p.stderr[:2000])
        message = c["error"].get("message")
        if message:
            assert message in p.stderr, (c["name"], message)


def test_a_yaml_pattern_error_points_at_the_operand(mlgw, tmp_path):
    path, _ = write_stack(tmp_path, "  r:\n    pattern:\n      detail:\n        n: [{numeric: ['>', 0, '>', 1]}]\n    target: {log: true}\n", functions=False)
    p = mlgw.run("validate", path, check=False)
    assert p.returncode == 1
    assert "stack.yaml:6:32: error: the pattern of event rule 'r' is not valid: Bad numeric range operator: >" in p.stderr, p.stderr


def test_put_events_and_test_event_pattern_with_boto3_and_the_cli(mlgw, tmp_path):
    rules = ("  big-orders:\n    pattern: {source: [shop], detail: {amount: [{numeric: ['>', 100]}]}}\n"
             "    targets:\n      - function: sink\n      - log: true\n        input_transformer:\n"
             "          paths: {amount: $.detail.amount}\n          template: '{\"big order\": <amount>, \"rule\": \"<aws.events.rule-name>\"}'\n")
    path, received = write_stack(tmp_path, rules)
    mlgw.run("apply", path, "--auto-approve")
    events = events_client(mlgw, path)
    r = events.put_events(Entries=[
        {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"amount": 250})},
        {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"amount": 5})},
        {"Source": "shop", "DetailType": "Order", "Detail": "{not json"},
        {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"pad": "x" * 270_000})},
        {"DetailType": "Order", "Detail": "{}"},
    ])
    assert r["FailedEntryCount"] == 3
    assert "EventId" in r["Entries"][0] and "EventId" in r["Entries"][1]
    assert r["Entries"][2]["ErrorCode"] == "MalformedDetail"
    assert r["Entries"][3]["ErrorCode"] == "InvalidArgument" and "exceeds" in r["Entries"][3]["ErrorMessage"]
    assert r["Entries"][4]["ErrorCode"] == "InvalidArgument" and "Source" in r["Entries"][4]["ErrorMessage"]
    with pytest.raises(events.exceptions.ClientError) as e:
        events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}] * 11)
    assert e.value.response["Error"]["Code"] == "ValidationException"

    got = wait_for(lambda: lines(received), what="the function target")
    assert len(got) == 1
    envelope = got[0]
    assert envelope["id"] == r["Entries"][0]["EventId"]
    assert envelope["detail"] == {"amount": 250} and envelope["source"] == "shop" and envelope["detail-type"] == "Order"
    assert set(envelope) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    log = os.path.join(mlgw.state_dir, "events-test", "default", "logs", "environment.log")
    wait_for(lambda: '{"big order": 250, "rule": "big-orders"}' in open(log).read(), what="the log target")

    event = {"id": "1", "account": "123456789012", "source": "shop", "time": "2026-12-02T00:00:00Z", "region": "us-east-1",
             "detail-type": "Order", "detail": {"amount": 300.0}}
    assert events.test_event_pattern(EventPattern=json.dumps({"detail": {"amount": [300]}}), Event=json.dumps(event))["Result"]
    assert not events.test_event_pattern(EventPattern=json.dumps({"detail": {"amount": ["300"]}}), Event=json.dumps(event))["Result"]
    with pytest.raises(events.exceptions.InvalidEventPatternException) as e:
        events.test_event_pattern(EventPattern=json.dumps({"detail": {"amount": []}}), Event=json.dumps(event))
    assert "Empty arrays are not allowed" in str(e.value)

    url = mlgw.output(path, "aws_endpoint_url")
    cli = subprocess.run(["aws", "events", "put-events", "--endpoint-url", url, "--region", "us-east-1", "--entries",
                          json.dumps([{"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"amount": 999})}])],
                         capture_output=True, text=True, env=dict(os.environ, AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t"))
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["FailedEntryCount"] == 0
    wait_for(lambda: len(lines(received)) == 2, what="the CLI's event")
    rule = next(r for r in mlgw.status(path)["host"]["eventRules"] if r["configuration"]["name"] == "big-orders")
    assert rule["matched"] == 2 and rule["delivered"] == 4 and rule["failed"] == 0


def test_a_failing_target_ends_in_the_dead_letter_file_and_does_not_block_others(mlgw, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead_port = s.getsockname()[1]
    s.close()
    dlq = tmp_path / "dlq.jsonl"
    rules = (f"  r:\n    pattern: {{source: [app]}}\n    targets:\n      - url: http://127.0.0.1:{dead_port}/hook\n"
             f"        retry: {{maximum_attempts: 2}}\n        dead_letter: {dlq}\n      - function: sink\n")
    path, received = write_stack(tmp_path, rules)
    mlgw.run("apply", path, "--auto-approve")
    mlgw.run("events", "put", path, "--source", "app", "--detail-type", "Ping", "--detail", '{"n": 1}')
    wait_for(lambda: lines(received), what="the function target, while the URL target retries")
    # Retries back off 1 s then 2 s on the environment's clock: moving it on runs them now.
    mlgw.run("clock", path, "advance", "10s")
    mlgw.run("clock", path, "advance", "10s")
    got = wait_for(lambda: lines(dlq), what="the dead-letter file")
    assert got[0]["attempts"] == 3 and got[0]["target"] == f"url:http://127.0.0.1:{dead_port}/hook"
    assert "Connection refused" in got[0]["error"] and got[0]["event"]["detail"] == {"n": 1}


def test_the_clock_fires_every_schedule_in_order_with_its_own_time(mlgw, tmp_path):
    rules = ("  hourly:\n    schedule: rate(1 hour)\n    target: {function: sink, input: {kind: hourly}}\n"
             "  nightly:\n    schedule: cron(0 20 * * ? *)\n    timezone: Europe/Berlin\n    target: {function: sink, input_path: $.time}\n")
    path, received = write_stack(tmp_path, rules)
    mlgw.run("apply", path, "--auto-approve")
    out = mlgw.run("clock", path, "advance", "2d").stdout
    assert "ahead of the wall clock" in out
    got = wait_for(lambda: len(lines(received)) >= 50 and lines(received), what="50 firings")
    hourly = [g for g in got if g == {"kind": "hourly"}]
    nightly = [g for g in got if isinstance(g, str)]
    assert len(hourly) == 48
    assert len(nightly) == 2 and all(t.endswith("T19:00:00Z") for t in nightly), nightly
    assert nightly == sorted(nightly)
    view = mlgw.status(path)
    assert view["host"]["clock"]["ahead"] >= 2 * 86400
    nightly_rule = next(r for r in view["host"]["eventRules"] if r["configuration"]["name"] == "nightly")
    assert nightly_rule["matched"] == 2 and nightly_rule["nextFiring"] > nightly_rule["lastFired"]


def test_a_kill_of_the_host_loses_no_accepted_event(mlgw, tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    rules = f"  r:\n    pattern: {{source: [app]}}\n    target: {{url: 'http://127.0.0.1:{port}/hook'}}\n"
    path, _ = write_stack(tmp_path, rules, functions=False)
    mlgw.run("apply", path, "--auto-approve")
    events = events_client(mlgw, path)
    ids = []
    for i in range(5):
        r = events.put_events(Entries=[{"Source": "app", "DetailType": "T", "Detail": json.dumps({"i": i * 2 + j})} for j in range(2)])
        assert r["FailedEntryCount"] == 0
        ids += [e["EventId"] for e in r["Entries"]]
    pid = mlgw.status(path)["host"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), what="the host to die")

    got = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", port), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mlgw.run("apply", path, "--auto-approve")
        wait_for(lambda: {e["id"] for e in got} >= set(ids), timeout=30, what="every accepted event after the restart")
    finally:
        server.shutdown()
        server.server_close()


def test_the_environment_puts_its_own_events_on_the_bus(mlgw, tmp_path):
    (tmp_path / "boom.py").write_text("def handler(event, context):\n    raise ValueError('boom ' + str(event['n']))\n")
    rules = ("  on-failure:\n    pattern: {source: [lambda], detail-type: [Lambda Function Invocation Result - Failure]}\n"
             "    target:\n      log: true\n      input_transformer:\n"
             "        paths: {fn: $.requestContext.functionArn, n: $.detail.requestPayload.n}\n"
             "        template: 'async failure <n>'\n")
    path, _ = write_stack(tmp_path, rules, functions=False)
    text = open(path).read().replace("event_rules:", "functions:\n  boom:\n    runtime: python3\n    handler: boom.handler\n"
                                     "    async: {max_retries: 0}\nevent_rules:")
    open(path, "w").write(text)
    mlgw.run("apply", path, "--auto-approve")
    # Every applied resource is an mlgw.deploy event.
    tail = mlgw.run("events", "tail", path, "--from-start", "--pattern", '{"source": ["mlgw.deploy"], "detail": {"name": ["boom"]}}',
                    "--count", "1", "--timeout", "10").stdout
    assert json.loads(tail.splitlines()[0])["detail"] == {"collection": "functions", "name": "boom"}
    url = mlgw.output(path, "aws_endpoint_url")
    lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    lam.invoke(FunctionName="boom", InvocationType="Event", Payload=json.dumps({"n": 7}))
    log = os.path.join(mlgw.state_dir, "events-test", "default", "logs", "environment.log")
    wait_for(lambda: "event rule on-failure: async failure 7" in open(log).read(), timeout=20, what="Lambda's on-failure event")


def test_the_moved_clock_expires_feature_records_by_their_ttl(mlgw, tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_text("stack: clock-ttl\nfeature_groups:\n  users:\n    record_identifier: id\n    event_time: at\n"
                    "    features: {id: String, at: Fractional, score: Fractional}\n    online: {ttl: 1h}\n"
                    "event_rules:\n  tick:\n    schedule: rate(30 minutes)\n    target: {log: true}\n")
    mlgw.run("apply", path, "--auto-approve")
    url = mlgw.output(path, "aws_endpoint_url")
    fs = boto3.client("sagemaker-featurestore-runtime", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    fs.put_record(FeatureGroupName="users", Record=[{"FeatureName": "id", "ValueAsString": "u1"},
                                                    {"FeatureName": "at", "ValueAsString": str(time.time())},
                                                    {"FeatureName": "score", "ValueAsString": "0.5"}])
    assert fs.get_record(FeatureGroupName="users", RecordIdentifierValueAsString="u1").get("Record")
    out = mlgw.run("clock", path, "advance", "2h").stdout
    assert "4 schedule firings" in out, out
    assert not fs.get_record(FeatureGroupName="users", RecordIdentifierValueAsString="u1").get("Record")
    assert "environment time" in mlgw.run("clock", path, "show").stdout
