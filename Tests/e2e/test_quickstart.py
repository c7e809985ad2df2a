"""The quickstart stack end to end, through boto3 and the AWS CLI."""
import collections
import json
import os
import subprocess

import jsonschema
import pytest
import yaml

from conftest import ROOT, live_processes, port_listening

QUICKSTART = "stacks/quickstart.yaml"


def test_apply_serves_weighted_traffic_and_destroy_leaves_nothing(mlgw):
    out = mlgw.run("apply", QUICKSTART, "--auto-approve").stdout
    assert "Apply complete! Resources: 3 added" in out
    assert "endpoints.churn: created after" in out
    c = mlgw.client(QUICKSTART)

    r = c.invoke_endpoint(EndpointName="churn", Body=b"12,80.5,3\n60,30,0", ContentType="text/csv")
    assert r["InvokedProductionVariant"] in ("current", "challenger")
    values = [float(v) for v in r["Body"].read().decode().split()]
    assert len(values) == 2 and all(0 < v < 1 for v in values)

    # 3,000 calls split 90/10 by weight: binomial sd is about 16, so +-5 sd is [218, 382].
    counts = collections.Counter(
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")["InvokedProductionVariant"]
        for _ in range(3000))
    assert set(counts) == {"current", "challenger"}
    assert 218 <= counts["challenger"] <= 382, counts

    # The caller can name a variant.
    for _ in range(20):
        r = c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv", TargetVariant="challenger")
        assert r["InvokedProductionVariant"] == "challenger"

    # JSON in and out.
    r = c.invoke_endpoint(EndpointName="churn", Body=json.dumps({"instances": [[1, 2, 3], [4, 5, 6]]}),
                          ContentType="application/json", Accept="application/json")
    assert len(json.loads(r["Body"].read())["predictions"]) == 2

    status = mlgw.status(QUICKSTART)
    instances = [i for e in status["host"]["endpoints"] for v in e["variants"] for i in v["instances"]]
    assert len(instances) == 3 and all(i["state"] == "healthy" for i in instances)
    ports = [i["port"] for i in instances] + [status["host"]["awsPort"]]

    out = mlgw.run("destroy", QUICKSTART, "--auto-approve").stdout
    assert "Destroy complete! 3 destroyed" in out
    assert live_processes(mlgw.state_dir) == []
    assert not any(port_listening(p) for p in ports)
    env_dir = os.path.join(mlgw.state_dir, "quickstart", "default")
    assert sorted(os.listdir(env_dir)) == ["lock", "logs", "state.json", "state.json.backup"]


def test_errors_come_back_in_the_shapes_boto3_parses(mlgw):
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    c = mlgw.client(QUICKSTART)
    with pytest.raises(c.exceptions.ValidationError, match="Endpoint nope of account"):
        c.invoke_endpoint(EndpointName="nope", Body=b"1,2,3", ContentType="text/csv")
    with pytest.raises(c.exceptions.ValidationError, match="not found for endpoint churn"):
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv", TargetVariant="nope")
    with pytest.raises(c.exceptions.ModelError) as err:
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2", ContentType="text/csv")
    assert err.value.response["OriginalStatusCode"] == 400
    assert "expects 3" in err.value.response["OriginalMessage"]


def test_aws_cli_works_unchanged(mlgw, tmp_path):
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    url = mlgw.output(QUICKSTART, "aws_endpoint_url")
    body = tmp_path / "in.csv"
    body.write_text("12,80.5,3")
    out = tmp_path / "out.csv"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    p = subprocess.run(["aws", "sagemaker-runtime", "invoke-endpoint", "--endpoint-url", url, "--endpoint-name", "churn",
                        "--body", f"fileb://{body}", "--content-type", "text/csv", str(out)],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["InvokedProductionVariant"] in ("current", "challenger")
    assert 0 < float(out.read_text()) < 1


def test_outputs_status_state_graph_and_logs(mlgw):
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    url = mlgw.output(QUICKSTART, "churn_url")
    assert url.startswith("http://127.0.0.1:") and url.endswith("/endpoints/churn/invocations")
    as_json = mlgw.run("output", QUICKSTART, "--json").stdout
    assert json.loads(as_json)["churn_url"]["value"] == url and "http://127.0.0.1:" in as_json  # slashes as they are
    assert json.loads(mlgw.run("output", QUICKSTART, "churn_url", "--json").stdout) == url
    assert "\\/" not in mlgw.run("status", QUICKSTART, "--json").stdout
    assert mlgw.run("state", "list", QUICKSTART).stdout.split() == ["models.churn-v1", "models.churn-v2", "endpoints.churn"]
    shown = json.loads(mlgw.run("state", "show", QUICKSTART, "endpoints.churn").stdout)
    assert len(shown["processes"]) == 3
    assert '"endpoints.churn" -> "models.churn-v1";' in mlgw.run("graph", QUICKSTART).stdout
    text = mlgw.run("status", QUICKSTART).stdout
    assert "current-1" in text and "healthy" in text
    logs = mlgw.run("logs", QUICKSTART, "endpoints.churn").stdout
    assert "model server listening" in logs
    assert "environment host pid" in mlgw.run("logs", QUICKSTART, "environment").stdout


def test_every_stack_validates_against_the_schema_and_plans(mlgw):
    schema = json.loads(mlgw.run("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    stacks = sorted(os.listdir(os.path.join(ROOT, "stacks")))
    assert "quickstart.yaml" in stacks and "churn-ab" in stacks
    for name in stacks:
        path = os.path.join("stacks", name)
        full = os.path.join(ROOT, path)
        files = [os.path.join(full, f) for f in sorted(os.listdir(full))] if os.path.isdir(full) else [full]
        for file in files:
            with open(file) as f:
                jsonschema.validate(yaml.safe_load(f), schema)
        # The gateway example reads its API key from the environment, as a CI job would.
        secrets = {"FRAUD_API_KEY": "ci-" + "k" * 30}
        assert "is valid" in mlgw.run("validate", path, env=secrets).stdout
        mlgw.run("plan", path, env=secrets)


def test_a_folder_stack_with_a_fixed_port_and_json_progress(mlgw, tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    stack = tmp_path / "ab"
    stack.mkdir()
    for f in ("models.yaml", "endpoints.yaml"):
        text = open(os.path.join(ROOT, "stacks", "churn-ab", f)).read()
        text = text.replace("../../examples", os.path.join(ROOT, "examples"))
        if f == "models.yaml":
            text += f"\nlocal:\n  port: {port}\n"
        (stack / f).write_text(text)
    out = mlgw.run("apply", str(stack), "--auto-approve", "--json", "--var", "instances=2").stdout
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["type"] for e in events].count("change_complete") == 3
    assert events[-1]["type"] == "apply_complete" and events[-1]["add"] == 3
    assert mlgw.output(str(stack), "url") == f"http://127.0.0.1:{port}/endpoints/churn-ab/invocations"
    c = mlgw.client(str(stack))
    seen = collections.Counter(c.invoke_endpoint(EndpointName="churn-ab", Body=b"1,2,3", ContentType="text/csv")["InvokedProductionVariant"]
                               for _ in range(400))
    assert 140 <= seen["a"] <= 260, seen


def test_plan_exit_codes_and_json(mlgw):
    p = mlgw.run("plan", QUICKSTART, "--detailed-exitcode", "--json", check=False)
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["format_version"] == "1.2" and doc["summary"]["add"] == 3
    assert [c["action"] for c in doc["changes"]] == ["create", "create", "create"]
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    assert mlgw.run("plan", QUICKSTART, "--detailed-exitcode", check=False).returncode == 0
    p = mlgw.run("plan", QUICKSTART, "--var", "challenger_weight=25", "--detailed-exitcode", "--json", check=False)
    assert p.returncode == 2
    change = json.loads(p.stdout)["changes"][0]
    assert change["action"] == "update" and change["address"] == "endpoints.churn"
    assert {a["path"]: (a["before"], a["after"]) for a in change["attributes"]} == {
        "variants.challenger.weight": (10, 25), "variants.current.weight": (90, 75)}


def test_apply_without_a_terminal_needs_auto_approve(mlgw):
    p = mlgw.run("apply", QUICKSTART, check=False)
    assert p.returncode == 1
    assert "--auto-approve" in p.stderr
    assert live_processes(mlgw.state_dir) == []
