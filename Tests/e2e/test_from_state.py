"""Teardown and inspection from the state alone: a CI job tearing down often runs after the stack
file changed, broke or is gone, and without the secrets."""
import json
import os
import shutil
import signal
import subprocess

from conftest import BIN, ROOT, live_processes, wait_for

KEY = "from-state-key-0123456789abcdef"


def copy_stack(workdir, name):
    return str(workdir / "stacks" / name)


def test_destroy_works_after_the_stack_file_is_deleted(mlgw, workdir):
    stack = copy_stack(workdir, "quickstart.yaml")
    mlgw.run("apply", stack, "--auto-approve")
    pids = [i["pid"] for e in mlgw.status(stack)["host"]["endpoints"] for v in e["variants"] for i in v["instances"]]
    os.unlink(stack)
    # Without the file, the commands that read what is deployed still work by name.
    status = json.loads(mlgw.run("status", "--stack", "quickstart", "--json").stdout)
    assert status["running"] and status["recorded"] == ["models.churn-v1", "models.churn-v2", "endpoints.churn"]
    assert "http://127.0.0.1:" in mlgw.run("output", "--stack", "quickstart", "aws_endpoint_url").stdout
    assert "endpoints.churn" in mlgw.run("state", "list", "--stack", "quickstart").stdout
    assert '"endpoints.churn" -> "models.churn-v1"' in mlgw.run("graph", "--stack", "quickstart").stdout
    assert "serving" in mlgw.run("logs", "--stack", "quickstart", "environment").stdout
    # A command that plans says it needs the file.
    p = mlgw.run("plan", "--stack", "quickstart", check=False)
    assert p.returncode == 1 and "needs the stack's files" in p.stderr
    out = mlgw.run("destroy", "--stack", "quickstart", "--auto-approve").stdout
    assert "Destroy complete! 3 destroyed" in out and "No process, listening port or data" in out
    assert not [p for p in pids if os.path.exists(f"/proc/{p}") and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] not in "ZX"]
    assert not live_processes(mlgw.state_dir)


def test_destroy_and_inspection_need_no_secret_and_no_valid_file(mlgw, workdir):
    stack = copy_stack(workdir, "fraud-gateway.yaml")
    mlgw.run("apply", stack, "--auto-approve", env={"FRAUD_API_KEY": KEY}, timeout=180)
    # The secret is gone, and the file no longer validates either.
    text = open(stack).read()
    open(stack, "w").write(text.replace("weight: \"${100 - var.challenger_weight}\"", "weight: -5"))
    env = {"FRAUD_API_KEY": ""}
    os.environ.pop("FRAUD_API_KEY", None)
    assert mlgw.run("validate", stack, check=False, env=env).returncode == 1
    assert json.loads(mlgw.run("status", stack, "--json", env=env).stdout)["running"]
    assert "gateway_url" in mlgw.run("output", stack, env=env).stdout
    assert "api_keys.ci" in mlgw.run("state", "list", stack, env=env).stdout
    assert "stages.v1" in mlgw.run("graph", stack, "--deployed", env=env).stdout
    out = mlgw.run("destroy", stack, "--auto-approve", env=env).stdout
    assert "Destroy complete! 8 destroyed" in out
    assert not live_processes(mlgw.state_dir)


def test_env_list_shows_running_and_stale_environments_and_a_stale_one_is_destroyed_from_there(mlgw, workdir):
    stack = copy_stack(workdir, "quickstart.yaml")
    mlgw.run("apply", stack, "--auto-approve")
    mlgw.run("apply", stack, "--auto-approve", "--env", "pr-7")
    rows = json.loads(mlgw.run("env", "list", "--json").stdout)
    assert [(r["stack"], r["environment"], r["state"], r["resources"]) for r in rows] == [
        ("quickstart", "default", "running", 3), ("quickstart", "pr-7", "running", 3)]
    assert all(r["aws_port"] and r["host_pid"] and r["since"] for r in rows)
    # The host of pr-7 dies: that environment is stale, and listed as such.
    host = next(r["host_pid"] for r in rows if r["environment"] == "pr-7")
    os.kill(host, signal.SIGKILL)
    wait_for(lambda: json.loads(mlgw.run("env", "list", "--json").stdout)[1]["state"] == "stale", what="pr-7 to be stale")
    text = mlgw.run("env", "list").stdout
    assert "pr-7" in text and "stale" in text and "mlgw-deploy destroy --stack quickstart --env pr-7" in text
    status = mlgw.run("status", "--stack", "quickstart", "--env", "pr-7", check=False)
    assert status.returncode == 3 and "is not running" in status.stdout
    mlgw.run("destroy", "--stack", "quickstart", "--env", "pr-7", "--auto-approve")
    rows = json.loads(mlgw.run("env", "list", "--json").stdout)
    assert [(r["environment"], r["state"]) for r in rows] == [("default", "running"), ("pr-7", "empty")]
