"""Changes under load, failures, crashes, locks, saved plans, validation and environments."""
import fcntl
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import BIN, ROOT, live_processes, wait_for

QUICKSTART = "stacks/quickstart.yaml"


class Hammer:
    """Calls the endpoint in a loop from two threads and counts failures (no client retries)."""

    def __init__(self, client):
        self.client = client
        self.ok = 0
        self.errors = []
        self.variants = set()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.loop) for _ in range(2)]

    def loop(self):
        while not self.stop.is_set():
            try:
                r = self.client.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")
                r["Body"].read()
                self.ok += 1
                self.variants.add(r["InvokedProductionVariant"])
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.errors.append(repr(e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        time.sleep(0.3)
        self.stop.set()
        for t in self.threads:
            t.join()


def test_weight_count_and_artifact_changes_under_load_fail_no_request(mlgw, workdir):
    stack = str(workdir / "stacks" / "quickstart.yaml")
    mlgw.run("apply", stack, "--auto-approve")
    before = mlgw.instances(stack)
    with Hammer(mlgw.client(stack)) as h:
        # A weight change is in place: same processes.
        out = mlgw.run("apply", stack, "--var", "challenger_weight=50", "--auto-approve").stdout
        assert "1 changed" in out
        assert mlgw.instances(stack) == before
        # More instances for the challenger: the current variant keeps its processes.
        text = (workdir / "stacks" / "quickstart.yaml").read_text()
        (workdir / "stacks" / "quickstart.yaml").write_text(text.replace("instances: 1", "instances: 2"))
        mlgw.run("apply", stack, "--var", "challenger_weight=50", "--auto-approve")
        after_scale = mlgw.instances(stack)
        assert after_scale["current"] == before["current"]
        assert len(after_scale["challenger"]) == 2
        # A new artifact for churn-v2: the model is replaced, the challenger goes blue/green.
        model = workdir / "examples" / "models" / "churn-v2.json"
        doc = json.loads(model.read_text())
        doc["intercept"] += 0.5
        model.write_text(json.dumps(doc))
        plan = mlgw.run("plan", stack, "--var", "challenger_weight=50").stdout
        assert "models.churn-v2 must be replaced" in plan and "blue/green" in plan
        mlgw.run("apply", stack, "--var", "challenger_weight=50", "--auto-approve")
        after_swap = mlgw.instances(stack)
        assert after_swap["current"] == before["current"]
        assert not {p for _, p, _, _ in after_swap["challenger"]} & {p for _, p, _, _ in after_scale["challenger"]}
    assert h.errors == [], h.errors[:5]
    assert h.ok > 100 and h.variants == {"current", "challenger"}


def test_a_killed_model_server_is_restarted_and_status_shows_it(mlgw):
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    _, pid, _, _ = mlgw.instances(QUICKSTART)["current"][0]
    os.kill(pid, signal.SIGKILL)
    def restarted():
        inst = mlgw.instances(QUICKSTART)["current"][0]
        return inst[3] == 1 and inst[2] == "healthy" and inst[1] != pid
    wait_for(restarted, what="the instance to restart")
    assert "killed by signal 9" in mlgw.run("status", QUICKSTART).stdout
    c = mlgw.client(QUICKSTART)
    for _ in range(50):
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv", TargetVariant="current")
    # Nothing changed in the stack's terms: plan is clean.
    assert mlgw.run("plan", QUICKSTART, "--detailed-exitcode", check=False).returncode == 0


def test_a_killed_host_takes_its_model_servers_and_plan_shows_the_drift(mlgw):
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    status = mlgw.status(QUICKSTART)
    host = status["host"]["pid"]
    servers = [i["pid"] for e in status["host"]["endpoints"] for v in e["variants"] for i in v["instances"]]
    os.kill(host, signal.SIGKILL)
    wait_for(lambda: live_processes(mlgw.state_dir) == [], what="the model servers to die with their host")
    p = mlgw.run("plan", QUICKSTART, "--detailed-exitcode", check=False)
    assert p.returncode == 2
    assert p.stdout.count("was recorded in state but not running") == 3
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    assert mlgw.run("plan", QUICKSTART, "--detailed-exitcode", check=False).returncode == 0
    c = mlgw.client(QUICKSTART)
    c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")
    assert not set(servers) & {i[1] for v in mlgw.instances(QUICKSTART).values() for i in v}


def test_an_apply_killed_midway_leaves_exact_state_and_the_next_apply_converges(mlgw, tmp_path):
    n = 12
    lines = ["stack: many", "models:", f"  m: {{runtime: linear, artifact: {ROOT}/examples/models/churn-v1.json}}", "endpoints:"]
    lines += [f"  e{i:02d}: {{variants: {{a: {{model: m, instances: 2}}}}}}" for i in range(n)]
    stack = tmp_path / "many.yaml"
    stack.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, MLGW_STATE_DIR=mlgw.state_dir)
    mlgw.used.add((str(stack), "default"))
    state_path = os.path.join(mlgw.state_dir, "many", "default", "state.json")

    def recorded():
        """Resources in the snapshot, plus the journal lines appended since."""
        try:
            with open(state_path) as f:
                addresses = {r["address"] for r in json.load(f)["state"]["resources"]}
        except (OSError, ValueError, KeyError):
            return 0
        try:
            with open(state_path.replace("state.json", "state.journal")) as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        break
                    if "set" in entry:
                        addresses.add(entry["set"]["_0"]["address"])
                    else:
                        addresses.discard(entry["remove"]["_0"])
        except OSError:
            pass
        return len(addresses)

    apply = subprocess.Popen([BIN, "apply", str(stack), "--auto-approve", "--parallelism", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    wait_for(lambda: recorded() >= 4, timeout=30, interval=0.002, what="a partial apply")
    apply.send_signal(signal.SIGKILL)
    apply.wait()
    done = recorded()
    assert 4 <= done < n + 1, "the apply finished before it could be killed"
    # The plan shows exactly the remainder; the next apply converges.
    p = mlgw.run("plan", str(stack), "--detailed-exitcode", "--json", check=False)
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["summary"]["add"] == n + 1 - done and doc["summary"]["unchanged"] == done
    mlgw.run("apply", str(stack), "--auto-approve")
    assert mlgw.run("plan", str(stack), "--detailed-exitcode", check=False).returncode == 0
    c = mlgw.client(str(stack))
    for i in range(n):
        c.invoke_endpoint(EndpointName=f"e{i:02d}", Body=b"1,2,3", ContentType="text/csv")


def test_a_second_apply_fails_at_once_naming_the_lock_holder_or_waits(mlgw):
    env_dir = os.path.join(mlgw.state_dir, "quickstart", "default")
    os.makedirs(env_dir)
    with open(os.path.join(env_dir, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("pid 4242, command 'apply', since 2026-01-01T00:00:00Z\n")
        lock.flush()
        start = time.time()
        p = mlgw.run("apply", QUICKSTART, "--auto-approve", check=False)
        assert p.returncode == 1 and time.time() - start < 5
        assert "locked by another mlgw-deploy: pid 4242, command 'apply'" in p.stderr
        threading.Timer(1.0, lambda: fcntl.flock(lock, fcntl.LOCK_UN)).start()
        p = mlgw.run("apply", QUICKSTART, "--auto-approve", "--lock-timeout", "20s", check=False)
        assert p.returncode == 0, p.stderr


def test_a_saved_plan_applies_exactly_and_is_refused_once_stale(mlgw, workdir, tmp_path):
    stack = str(workdir / "stacks" / "quickstart.yaml")
    planfile = str(tmp_path / "changes.plan")
    mlgw.run("plan", stack, "--out", planfile)
    out = mlgw.run("apply", planfile).stdout
    assert "3 added" in out
    # Stale after another apply changed the state.
    mlgw.run("plan", stack, "--var", "challenger_weight=20", "--out", planfile)
    mlgw.run("apply", stack, "--var", "challenger_weight=30", "--auto-approve")
    p = mlgw.run("apply", planfile, check=False)
    assert p.returncode == 1 and "stale" in p.stderr and "the state changed" in p.stderr
    # What runs differently is named, weight by weight.
    assert "what runs changed since the plan: endpoints.churn: variants.challenger.weight is 30, was 10" in p.stderr, p.stderr
    # Stale after the stack file was edited.
    mlgw.run("plan", stack, "--var", "challenger_weight=30", "--out", planfile)
    (workdir / "stacks" / "quickstart.yaml").write_text((workdir / "stacks" / "quickstart.yaml").read_text() + "\n# edited\n")
    p = mlgw.run("apply", planfile, check=False)
    assert p.returncode == 1 and "the stack files changed" in p.stderr


def test_validate_reports_every_error_with_a_location_and_writes_nothing(mlgw, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""stack: bad
models:
  m1: {runtime: linear, artifact: nowhere.json}
endpoints:
  e:
    variants:
      a: {model: m2, wieght: 3}
      b: {model: m1, weight: 0}
scaling_policies:
  p: {target: endpoints.e.variants.a, min: 3, max: 1, scheduled_actions: [{schedule: "rate(1 day)", max: 1}]}
""")
    p = mlgw.run("validate", str(bad), check=False)
    assert p.returncode == 1
    errors = re.findall(r"^(\S+):(\d+):(\d+): error: (.*)$", p.stderr, re.M)
    summaries = [e[3] for e in errors]
    assert any("artifact of model 'm1' 'nowhere.json' does not exist" in s for s in summaries)
    assert any("unknown key 'wieght'" in s for s in summaries)
    assert any("undeclared model 'm2'" in s for s in summaries)
    assert any("scaling policy 'p' has min 3 above max 1" in s for s in summaries)
    assert "did you mean 'weight'?" in p.stderr and "did you mean 'm1'?" in p.stderr
    assert all(e[0].endswith("bad.yaml") for e in errors)
    assert mlgw.run("plan", str(bad), check=False).returncode == 1
    assert not os.path.exists(mlgw.state_dir)


def test_two_environments_of_one_stack_run_side_by_side(mlgw):
    mlgw.run("apply", QUICKSTART, "--env", "pr-1", "--auto-approve")
    mlgw.run("apply", QUICKSTART, "--env", "pr-2", "--auto-approve", "--var", "challenger_weight=0")
    u1, u2 = mlgw.output(QUICKSTART, "aws_endpoint_url", "pr-1"), mlgw.output(QUICKSTART, "aws_endpoint_url", "pr-2")
    assert u1 != u2
    c2 = mlgw.client(QUICKSTART, "pr-2")
    assert {c2.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")["InvokedProductionVariant"]
            for _ in range(50)} == {"current"}
    mlgw.run("destroy", QUICKSTART, "--env", "pr-1", "--auto-approve")
    c2.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")
    assert mlgw.status(QUICKSTART, "pr-1")["running"] is False


def test_help_describes_the_whole_product_and_apply_takes_plan_files(mlgw):
    top = mlgw.run("--help").stdout
    for word in ("models", "endpoints", "functions", "API gateway", "destroy"):
        assert word in top, word
    # Wrapped by the terminal's width only: no sentence broken by a hard newline mid-line.
    paragraph = top.split("\n\n")[1]
    assert all(len(line) > 60 for line in paragraph.splitlines()[:-1]), paragraph
    apply = mlgw.run("apply", "--help").stdout
    assert "plan file" in apply and "<stack-or-plan-file>" in apply
    assert "3 it does not" in mlgw.run("status", "--help").stdout
