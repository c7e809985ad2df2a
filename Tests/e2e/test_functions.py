"""Functions end to end: workers that speak the Lambda Runtime API, called with boto3's lambda client
(RequestResponse, Event, DryRun, Tail), errors, timeouts, crashes, concurrency, awslambdaric, and
code changes under load."""
import base64
import json
import os
import re
import threading
import time

import boto3
import pytest
from botocore.config import Config

from conftest import live_processes, process_alive

HANDLER = '''
import json, os, time

def handler(event, context):
    print("event", json.dumps(event))
    if event.get("raise"):
        raise ValueError("bad input: " + str(event["raise"]))
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit"):
        os._exit(3)
    if event.get("record"):
        with open(event["record"], "a") as f:
            f.write(context.aws_request_id + "\\n")
        if event.get("fail"):
            raise RuntimeError("failing on purpose")
    return {"echo": event, "function": context.function_name, "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(), "arn": context.invoked_function_arn,
            "version": VERSION, "endpoint": os.environ.get("ENDPOINT"), "aws_url": os.environ.get("AWS_ENDPOINT_URL"),
            "runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API"), "memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            "init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}

VERSION = "v1"
'''


def write_stack(tmp_path, extra="", version="v1", provisioned=1, reserved=3, timeout="1s"):
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "echo.py").write_text(HANDLER.replace('VERSION = "v1"', f'VERSION = "{version}"'))
    stack = tmp_path / "fn.yaml"
    stack.write_text(f"""stack: fn
models:
  m: {{runtime: linear, artifact: {os.path.join(os.path.dirname(__file__), "..", "..", "examples", "models", "churn-v1.json")}}}
endpoints:
  churn:
    variants: {{main: {{model: m}}}}
functions:
  echo:
    runtime: python3
    handler: app/echo.handler
    timeout: {timeout}
    memory: 256
    provisioned_concurrency: {provisioned}
    reserved_concurrency: {reserved}
    environment:
      ENDPOINT: ${{endpoints.churn.name}}
    async: {{max_retries: 2, retry_delay: 200ms}}
{extra}""")
    return str(stack)


def lambda_client(mlgw, stack):
    url = mlgw.output(stack, "aws_endpoint_url")
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}, max_pool_connections=16))


def invoke(client, payload, **kw):
    r = client.invoke(FunctionName="echo", Payload=json.dumps(payload), **kw)
    return r, json.loads(r["Payload"].read() or b"null")


def test_request_response_event_and_dry_run_through_boto3(mlgw, tmp_path):
    stack = write_stack(tmp_path)
    out = mlgw.run("apply", stack, "--auto-approve").stdout
    assert "functions.echo: created after" in out
    client = lambda_client(mlgw, stack)

    # The first call after apply is warm: the provisioned worker is already waiting for it.
    t = time.monotonic()
    r, body = invoke(client, {"n": 1}, LogType="Tail")
    assert time.monotonic() - t < 0.5
    assert r["StatusCode"] == 200 and "FunctionError" not in r and r["ExecutedVersion"] == "$LATEST"
    assert body["echo"] == {"n": 1} and body["function"] == "echo" and body["memory"] == "256"
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:echo"
    assert 0 < body["remaining_ms"] <= 1000
    assert body["endpoint"] == "churn", "a reference to another resource resolves in the function's environment"
    assert body["aws_url"] == mlgw.output(stack, "aws_endpoint_url")
    log = base64.b64decode(r["LogResult"]).decode()
    assert f"START RequestId: {body['request_id']}" in log and 'event {"n": 1}' in log and "REPORT RequestId" in log
    # The worker's real peak memory (a Python interpreter is several MB), within the memory size.
    used = int(re.search(r"Max Memory Used: (\d+) MB", log).group(1))
    assert 5 <= used <= 256, log
    assert body["init_type"] == "provisioned-concurrency"

    # DryRun checks the function exists; an unknown function is ResourceNotFoundException.
    assert client.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204
    assert client.invoke(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:echo", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nope")
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="echo", Payload=b"{not json")

    # Event: accepted at once (202), run in the background; a failing event is retried twice
    # (max_retries 2), then kept as a failed event.
    record = tmp_path / "attempts.txt"
    r = client.invoke(FunctionName="echo", InvocationType="Event", Payload=json.dumps({"record": str(record)}))
    assert r["StatusCode"] == 202
    failing = tmp_path / "failing.txt"
    client.invoke(FunctionName="echo", InvocationType="Event", Payload=json.dumps({"record": str(failing), "fail": True}))
    deadline = time.time() + 10
    while time.time() < deadline and not (record.exists() and failing.exists() and len(failing.read_text().split()) == 3):
        time.sleep(0.1)
    assert len(record.read_text().split()) == 1
    attempts = failing.read_text().split()
    assert len(attempts) == 3 and len(set(attempts)) == 1, "three attempts of one event, under one request id"
    failed = tmp_path / "state" / "fn" / "default" / "logs" / "functions.echo" / "failed-events.jsonl"
    deadline = time.time() + 5
    while time.time() < deadline and not failed.exists():
        time.sleep(0.1)
    event = json.loads(failed.read_text().splitlines()[0])
    assert event["attempts"] == 3 and "failing on purpose" in event["error"] and json.loads(event["payload"])["fail"] is True


def test_errors_timeouts_and_crashes_come_back_as_lambda_reports_them(mlgw, tmp_path):
    stack = write_stack(tmp_path, timeout="1s")
    mlgw.run("apply", stack, "--auto-approve")
    client = lambda_client(mlgw, stack)

    r, body = invoke(client, {"raise": "x"})
    assert r["StatusCode"] == 200 and r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "bad input: x"
    assert any("echo.py" in frame for frame in body["stackTrace"])

    # A handler that overruns its timeout: the worker is killed and replaced.
    before = {w["pid"] for w in mlgw.status(stack)["host"]["functions"][0]["workers"]}
    t = time.monotonic()
    r, body = invoke(client, {"sleep": 30})
    assert 0.9 < time.monotonic() - t < 3
    assert r["FunctionError"] == "Unhandled" and body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    for pid in before:
        deadline = time.time() + 3
        while time.time() < deadline and process_alive(pid):
            time.sleep(0.05)
    r, body = invoke(client, {"after": "timeout"})
    assert "FunctionError" not in r and body["echo"] == {"after": "timeout"}

    # A worker whose process dies mid-call.
    r, body = invoke(client, {"exit": True})
    assert r["FunctionError"] == "Unhandled" and body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]
    r, body = invoke(client, {"after": "crash"})
    assert "FunctionError" not in r

    fn = mlgw.status(stack)["host"]["functions"][0]
    assert fn["timeouts"] == 1 and fn["errors"] >= 3
    assert 1 <= len(fn["workers"]) <= 3


def test_concurrency_beyond_the_reservation_is_throttled(mlgw, tmp_path):
    stack = write_stack(tmp_path, provisioned=1, reserved=2, timeout="5s")
    mlgw.run("apply", stack, "--auto-approve")
    client = lambda_client(mlgw, stack)
    results = []

    def call():
        try:
            r, body = invoke(client, {"sleep": 1.0})
            results.append(body["init_type"] if "FunctionError" not in r else "error")
        except client.exceptions.TooManyRequestsException as e:
            results.append("throttled")
            assert e.response["Error"]["Message"] == "Rate Exceeded."
            assert e.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join()
    # The provisioned worker says so; the one started on demand beyond it says on-demand.
    assert sorted(results) == ["on-demand", "provisioned-concurrency", "throttled", "throttled"], results
    fn = mlgw.status(stack)["host"]["functions"][0]
    assert fn["throttles"] == 2 and len(fn["workers"]) == 2, "one provisioned worker, one started on demand"


def test_a_handler_run_by_awslambdaric_works_unchanged(mlgw, tmp_path):
    (tmp_path / "echo.py").write_text(HANDLER)
    stack = tmp_path / "ric.yaml"
    stack.write_text("""stack: ric
functions:
  echo:
    command: [python3, -m, awslambdaric, echo.handler]
    timeout: 2s
    provisioned_concurrency: 1
""")
    mlgw.run("apply", str(stack), "--auto-approve")
    client = lambda_client(mlgw, str(stack))
    r, body = invoke(client, {"n": 2}, LogType="Tail")
    assert "FunctionError" not in r and body["echo"] == {"n": 2} and body["function"] == "echo"
    assert f"START RequestId: {body['request_id']}" in base64.b64decode(r["LogResult"]).decode()
    r, body = invoke(client, {"raise": "ric"})
    assert r["FunctionError"] == "Unhandled" and body["errorType"] == "ValueError" and body["errorMessage"] == "bad input: ric"
    assert client.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202


def test_a_code_change_replaces_workers_without_failing_calls_in_flight(mlgw, tmp_path):
    stack = write_stack(tmp_path, provisioned=2, reserved=4, timeout="5s")
    mlgw.run("apply", stack, "--auto-approve")
    client = lambda_client(mlgw, stack)
    old_pids = {w["pid"] for w in mlgw.status(stack)["host"]["functions"][0]["workers"]}
    stop = threading.Event()
    versions, failures = [], []

    def load():
        while not stop.is_set():
            try:
                r, body = invoke(client, {"sleep": 0.05})
                if "FunctionError" in r:
                    failures.append(body)
                else:
                    versions.append(body["version"])
            except Exception as e:  # noqa: BLE001 - every failure counts
                failures.append(repr(e))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    write_stack(tmp_path, version="v2", provisioned=2, reserved=4, timeout="5s")
    plan = mlgw.run("plan", stack).stdout
    assert "~ functions.echo" in plan and "code_sha256" in plan and "new workers start" in plan
    mlgw.run("apply", stack, "--auto-approve")
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert versions[0] == "v1" and versions[-1] == "v2"
    new_pids = {w["pid"] for w in mlgw.status(stack)["host"]["functions"][0]["workers"]}
    assert new_pids.isdisjoint(old_pids)
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().split()[2] for p in old_pids):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().split()[2] for p in old_pids)
    assert "No changes" in mlgw.run("plan", stack).stdout


def test_destroy_stops_every_worker(mlgw, tmp_path):
    stack = write_stack(tmp_path, provisioned=2)
    mlgw.run("apply", stack, "--auto-approve")
    assert len([p for p in live_processes(mlgw.state_dir) if "bootstrap.py" in p[1]]) == 2
    mlgw.run("destroy", stack, "--auto-approve")
    assert live_processes(mlgw.state_dir) == []


def test_a_handler_that_cannot_load_fails_apply_with_its_error(mlgw, tmp_path):
    (tmp_path / "broken.py").write_text("import json\ndef handler(event, context)\n    return {}\n")
    stack = tmp_path / "broken.yaml"
    stack.write_text("""stack: broken
local: {health_timeout: 10}
functions:
  broken: {runtime: python3, handler: broken.handler, provisioned_concurrency: 1}
""")
    p = mlgw.run("apply", str(stack), "--auto-approve", check=False)
    assert p.returncode == 1
    assert "function 'broken' did not start" in p.stderr and "Runtime.UserCodeSyntaxError" in p.stderr
    assert "broken.py" in p.stderr, "the last lines of the worker's log are in the error"


def test_a_handler_that_cannot_load_answers_every_call_with_its_error(mlgw, tmp_path):
    (tmp_path / "failing.py").write_text("raise RuntimeError('no model file')\ndef handler(event, context):\n    return {}\n")
    stack = tmp_path / "failing.yaml"
    stack.write_text("stack: failing\nfunctions:\n  echo: {runtime: python3, handler: failing.handler}\n")
    mlgw.run("apply", str(stack), "--auto-approve")
    client = lambda_client(mlgw, str(stack))
    times = []
    for _ in range(5):
        t = time.monotonic()
        r, body = invoke(client, {})
        times.append(time.monotonic() - t)
        assert r["FunctionError"] == "Unhandled" and body["errorType"] == "Runtime.ImportModuleError"
        assert body["errorMessage"] == "no model file"
    assert max(times[3:]) < 0.05, f"after three failed starts the error comes back at once: {times}"
