"""Bring-your-own model servers: a Python server honouring the SageMaker container contract."""
import collections
import os
import signal
import time

import pytest

from conftest import ROOT, process_alive, wait_for

STACK = "stacks/custom-server.yaml"


def server_pids(mlgw, stack=STACK):
    return [i[1] for v in mlgw.instances(stack).values() for i in v]


alive = process_alive


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


def server_environment(mlgw, stack, endpoint):
    ep = [e for e in mlgw.status(stack)["host"]["endpoints"] if e["name"] == endpoint][0]
    pid = ep["variants"][0]["instances"][0]["pid"]
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(item.decode().split("=", 1) for item in f.read().split(b"\0") if b"=" in item)


@pytest.mark.parametrize("form", ["folder", "file", "tar.gz"])
def test_a_servers_artifact_becomes_its_model_folder(mlgw, tmp_path, monkeypatch, form):
    import tarfile
    rules = open(os.path.join(ROOT, "examples", "servers", "rules", "rules.json")).read()
    source = tmp_path / "model"
    source.mkdir()
    (source / "rules.json").write_text(rules)
    if form == "folder":
        artifact = "model"
    elif form == "file":
        artifact = "model/rules.json"
    else:
        with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as t:
            t.add(source / "rules.json", arcname="rules.json")
        artifact = "model.tar.gz"
    # What the shell that runs apply has: PYTHONPATH and a virtualenv reach the server, a secret does not.
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "lib"))
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    monkeypatch.setenv("SOME_TOKEN", "not-for-servers")
    stack = tmp_path / "own.yaml"
    stack.write_text(f"""stack: own-{form.replace('.', '-')}
models:
  rules:
    command: [python3, {ROOT}/examples/servers/serve.py]
    artifact: {artifact}
    environment: {{EXTRA: given}}
endpoints:
  risk: {{variants: {{a: {{model: rules}}}}}}
""")
    plan = mlgw.run("plan", str(stack)).stdout
    assert "artifact_sha256" in plan and f'+ artifact' in plan
    mlgw.run("apply", str(stack), "--auto-approve")
    env = server_environment(mlgw, str(stack), "risk")
    folder = env["SM_MODEL_DIR"]
    assert folder.startswith(str(mlgw.state_dir)) and "/data/models/rules/" in folder
    assert sorted(os.listdir(folder)) == ["rules.json"] and open(os.path.join(folder, "rules.json")).read() == rules
    assert env["EXTRA"] == "given" and env["PYTHONPATH"] == str(tmp_path / "lib") and env["VIRTUAL_ENV"] == str(tmp_path / "venv")
    assert "SOME_TOKEN" not in env and "SAGEMAKER_BIND_TO_PORT" in env
    c = mlgw.client(str(stack))
    assert float(c.invoke_endpoint(EndpointName="risk", Body=b"12,80.5,3", ContentType="text/csv")["Body"].read())

    # A new artifact is a new model: the endpoint moves blue/green onto a new folder.
    (source / "rules.json").write_text(rules.replace("0.", "0.0", 1))
    if form == "tar.gz":
        with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as t:
            t.add(source / "rules.json", arcname="rules.json")
    plan = mlgw.run("plan", str(stack)).stdout
    assert "models.rules must be replaced (models are immutable: artifact_sha256" in plan, plan
    mlgw.run("apply", str(stack), "--auto-approve")
    assert server_environment(mlgw, str(stack), "risk")["SM_MODEL_DIR"] != folder
    assert mlgw.run("plan", str(stack), "--detailed-exitcode", check=False).returncode == 0


def test_a_broken_archive_and_host_set_variables_are_errors(mlgw, tmp_path):
    (tmp_path / "model.tar.gz").write_bytes(b"not gzip at all")
    stack = tmp_path / "broken.yaml"
    stack.write_text(f"""stack: broken
models:
  rules: {{command: [python3, {ROOT}/examples/servers/serve.py], artifact: model.tar.gz}}
""")
    p = mlgw.run("apply", str(stack), "--auto-approve", check=False)
    assert p.returncode == 1 and "cannot prepare the model folder of model 'rules'" in p.stderr and "not a readable .tar.gz" in p.stderr, p.stderr
    models = os.path.join(mlgw.state_dir, "broken", "default", "data", "models", "rules")
    assert not os.path.exists(models) or os.listdir(models) == []  # nothing half-unpacked is left

    stack.write_text(f"""stack: broken
models:
  rules: {{command: [python3, serve.py], artifact: model.tar.gz, environment: {{SM_MODEL_DIR: /x, SAGEMAKER_BIND_TO_PORT: "1"}}}}
""")
    p = mlgw.run("validate", str(stack), check=False)
    assert p.returncode == 1
    assert "'SM_MODEL_DIR' in the environment of model 'rules' is set by the environment host" in p.stderr
    assert "'SAGEMAKER_BIND_TO_PORT' in the environment of model 'rules' is set by the environment host" in p.stderr
