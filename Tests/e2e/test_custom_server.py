"""Bring-your-own model servers: a Python server honouring the SageMaker container contract."""
import collections
import os
import signal
import time

import pytest

from conftest import ROOT, wait_for

STACK = "stacks/custom-server.yaml"


def server_pids(mlgw, stack=STACK):
    return [i[1] for v in mlgw.instances(stack).values() for i in v]


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_python_server_serves_fails_as_model_error_restarts_and_goes_away(mlgw):
    mlgw.run("apply", STACK, "--auto-approve")
    c = mlgw.client(STACK)
    seen = collections.Counter(c.invoke_endpoint(EndpointName="risk", Body=b"12,80.5,3", ContentType="text/csv")["InvokedProductionVariant"]
                               for _ in range(300))
    assert 100 <= seen["rules"] <= 200 and seen["rules"] + seen["learned"] == 300, seen
    r = c.invoke_endpoint(EndpointName="risk", Body=b"12,80.5,3\n1,1,1", ContentType="text/csv", TargetVariant="rules")
    assert len(r["Body"].read().split()) == 2
    with pytest.raises(c.exceptions.ModelError) as err:
        c.invoke_endpoint(EndpointName="risk", Body=b"fail", ContentType="text/csv", TargetVariant="rules")
    assert err.value.response["OriginalStatusCode"] == 500
    assert "injected failure" in err.value.response["OriginalMessage"]
    with pytest.raises(c.exceptions.ModelError) as err:
        c.invoke_endpoint(EndpointName="risk", Body=b"1,2", ContentType="text/csv", TargetVariant="rules")
    assert err.value.response["OriginalStatusCode"] == 400

    rules = mlgw.instances(STACK)["rules"]
    assert len(rules) == 2 and all(i[2] == "healthy" for i in rules)
    victim = rules[0][1]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: mlgw.instances(STACK)["rules"][0][3] == 1 and mlgw.instances(STACK)["rules"][0][2] == "healthy",
             what="the python server to restart")
    pids = server_pids(mlgw)
    mlgw.run("destroy", STACK, "--auto-approve")
    assert not any(alive(p) for p in pids)


def test_editing_the_server_script_replaces_the_model_blue_green(mlgw, workdir):
    stack = str(workdir / "stacks" / "custom-server.yaml")
    mlgw.run("apply", stack, "--auto-approve")
    before = {i[1] for i in mlgw.instances(stack)["rules"]}
    script = workdir / "examples" / "servers" / "serve.py"
    script.write_text(script.read_text() + "\n# retuned\n")
    plan = mlgw.run("plan", stack).stdout
    assert "models.rules must be replaced (models are immutable: server_sha256 changed)" in plan
    assert "variants.rules.model_sha256" in plan and "blue/green" in plan
    mlgw.run("apply", stack, "--auto-approve")
    after = {i[1] for i in mlgw.instances(stack)["rules"]}
    assert not before & after
    assert {i[1] for i in mlgw.instances(stack)["learned"]}  # the other variant kept serving
    assert mlgw.run("plan", stack, "--detailed-exitcode", check=False).returncode == 0


def test_a_server_that_never_becomes_healthy_fails_apply_with_its_log(mlgw, tmp_path):
    stack = tmp_path / "slow.yaml"
    stack.write_text("""stack: slow
models:
  sleepy:
    command: [python3, -c, "import time; print('warming up the model...', flush=True); time.sleep(120)"]
    startup_timeout: 1s
endpoints:
  slow:
    variants: {main: {model: sleepy}}
""")
    start = time.time()
    p = mlgw.run("apply", str(stack), "--auto-approve", check=False)
    assert p.returncode == 1 and time.time() - start < 15
    assert "did not become healthy within 1s" in p.stderr
    assert "warming up the model..." in p.stderr
    # The state records what exists: the model, not the endpoint; no server is left running.
    assert mlgw.run("state", "list", str(stack)).stdout.split() == ["models.sleepy"]
    out = os.popen("ps -eo stat=,args=").read()
    assert not [l for l in out.splitlines() if "warming up the model" in l and not l.startswith("Z")]


def test_a_command_that_does_not_exist_is_a_terminal_error(mlgw, tmp_path):
    stack = tmp_path / "missing.yaml"
    stack.write_text("stack: missing\nmodels:\n  m: {command: [no-such-server-binary]}\n")
    p = mlgw.run("apply", str(stack), "--auto-approve", check=False)
    assert p.returncode == 1
    assert "'no-such-server-binary', which is not an executable file here or on PATH" in p.stderr


def test_a_servers_environment_gets_values_known_only_after_apply(mlgw, tmp_path):
    stack = tmp_path / "chain.yaml"
    stack.write_text(f"""stack: chain
models:
  base: {{runtime: linear, artifact: {ROOT}/examples/models/churn-v1.json}}
  caller:
    command: [python3, {ROOT}/examples/servers/serve.py]
    environment:
      MODEL_DIR: {ROOT}/examples/servers/rules
      UPSTREAM: ${{endpoints.scores.url}}
      AWS_ENDPOINT_URL: ${{environment.aws_endpoint_url}}
endpoints:
  scores: {{variants: {{a: {{model: base}}}}}}
  front: {{variants: {{a: {{model: caller}}}}}}
""")
    plan = mlgw.run("plan", str(stack)).stdout
    assert '+ environment.UPSTREAM' in plan and '"${endpoints.scores.url}"' in plan
    assert '"models.caller" -> "endpoints.scores";' in mlgw.run("graph", str(stack)).stdout
    out = mlgw.run("apply", str(stack), "--auto-approve").stdout
    assert out.index("endpoints.scores: created") < out.index("models.caller: creating")
    url = mlgw.output(str(stack), "aws_endpoint_url")
    front = [e for e in mlgw.status(str(stack))["host"]["endpoints"] if e["name"] == "front"][0]
    pid = front["variants"][0]["instances"][0]["pid"]
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    assert env[b"UPSTREAM"].decode() == f"{url}/endpoints/scores/invocations"
    assert env[b"AWS_ENDPOINT_URL"].decode() == url
    assert mlgw.run("plan", str(stack), "--detailed-exitcode", check=False).returncode == 0


def test_a_reference_cycle_is_reported_with_its_path(mlgw, tmp_path):
    stack = tmp_path / "loop.yaml"
    stack.write_text(f"""stack: loop
models:
  caller: {{command: [python3, {ROOT}/examples/servers/serve.py], environment: {{SELF: "${{endpoints.front.url}}"}}}}
endpoints:
  front: {{variants: {{a: {{model: caller}}}}}}
""")
    p = mlgw.run("validate", str(stack), check=False)
    assert p.returncode == 1 and "dependency cycle: models.caller -> endpoints.front -> models.caller" in p.stderr
