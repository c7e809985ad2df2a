"""Progressive rollouts: steps of weight with a bake time, and a rollback the environment does by itself."""
import collections
import json
import os
import threading
import time

from conftest import ROOT, wait_for


def stack_file(tmp_path, challenger_artifact, limits=""):
    path = tmp_path / "rollout.yaml"
    path.write_text(f"""stack: rollout
models:
  v1: {{runtime: linear, artifact: {ROOT}/examples/models/churn-v1.json}}
  v2: {{runtime: linear, artifact: {challenger_artifact}}}
endpoints:
  churn:
    variants:
      current: {{model: v1, weight: 1}}
      next:
        model: v2
        rollout: {{steps: [20, 60, 100], bake: 1s, min_requests: 10{limits}}}
""")
    return str(path)


class Traffic:
    def __init__(self, client):
        self.client, self.stop, self.seen, self.errors = client, threading.Event(), [], 0
        self.thread = threading.Thread(target=self.run)

    def run(self):
        while not self.stop.is_set():
            try:
                r = self.client.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")
                self.seen.append(r["InvokedProductionVariant"])
            except Exception:  # noqa: BLE001
                self.errors += 1
            time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def rollout_status(mlgw, stack):
    for v in mlgw.status(stack)["host"]["endpoints"][0]["variants"]:
        if v["name"] == "next":
            return v["rollout"]


def events(mlgw):
    with open(os.path.join(mlgw.state_dir, "rollout", "default", "events.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_a_healthy_rollout_steps_through_and_completes(mlgw, tmp_path):
    stack = stack_file(tmp_path, f"{ROOT}/examples/models/churn-v2.json", ", max_error_rate: 0.01")
    plan = mlgw.run("plan", stack).stdout
    assert '+ variants.next.rollout.steps' in plan and '"20,60,100"' in plan
    mlgw.run("apply", stack, "--auto-approve")
    c = mlgw.client(stack)
    with Traffic(c) as t:
        assert rollout_status(mlgw, stack)["share"] == 20
        wait_for(lambda: rollout_status(mlgw, stack)["state"] == "completed", timeout=20, what="the rollout to complete")
        done = len(t.seen)
        time.sleep(0.5)
    assert t.errors == 0
    assert set(t.seen[done:]) == {"next"}  # at the last step (100%) all traffic goes to the new variant
    s = rollout_status(mlgw, stack)
    assert s["share"] == 100 and any("completed" in h for h in s["history"])
    # A step whose bake ends before its ten requests (a slow machine starting the client) waits first.
    steps = [e["type"] for e in events(mlgw) if e["type"] != "RolloutWaitingForTraffic"]
    assert steps == ["RolloutStarted", "RolloutStepAdvanced", "RolloutStepAdvanced", "RolloutCompleted"]
    # Progress is not drift, and re-applying the same stack leaves the rollout where it is.
    assert mlgw.run("plan", stack, "--detailed-exitcode", check=False).returncode == 0
    mlgw.run("apply", stack, "--auto-approve")
    assert rollout_status(mlgw, stack)["state"] == "completed"
    assert "rollout of endpoints.churn variant 'next': completed" in mlgw.run("status", stack).stdout


def test_a_failing_variant_is_rolled_back_by_the_environment(mlgw, tmp_path):
    # The new model expects 2 features; every 3-feature request to it is a model error.
    broken = tmp_path / "broken.json"
    broken.write_text('{"objective": "logistic", "coefficients": [1, 2], "intercept": 0}')
    stack = stack_file(tmp_path, broken, ", max_error_rate: 0.05")
    mlgw.run("apply", stack, "--auto-approve")
    c = mlgw.client(stack)
    with Traffic(c) as t:
        wait_for(lambda: rollout_status(mlgw, stack)["state"] == "rolled_back", timeout=20, what="the rollback")
        after = len(t.seen)
        time.sleep(0.5)
    s = rollout_status(mlgw, stack)
    assert s["share"] == 0 and "error rate" in s["reason"] and "step 1 (20%)" in s["reason"]
    assert t.seen[after:] and set(t.seen[after:]) == {"current"}  # all traffic back on the old variant
    assert events(mlgw)[-1]["type"] == "RolloutRolledBack"
    text = mlgw.run("status", stack).stdout
    assert "rolled back" in text and "why: error rate" in text


def test_a_step_without_enough_traffic_never_advances_and_rolls_back_after_max_wait(mlgw, tmp_path):
    stack = stack_file(tmp_path, f"{ROOT}/examples/models/churn-v2.json", ", max_wait: 3s")
    mlgw.run("apply", stack, "--auto-approve")
    # No traffic: once the bake (1 s) is over the step waits, says why, and does not advance.
    wait_for(lambda: "waiting" in (rollout_status(mlgw, stack).get("reason") or ""), timeout=10, what="the step to wait for traffic")
    s = rollout_status(mlgw, stack)
    assert s["state"] == "progressing" and s["share"] == 20 and "has seen 0 of the 10 requests" in s["reason"]
    wait_for(lambda: rollout_status(mlgw, stack)["state"] == "rolled_back", timeout=10, what="the rollback after max_wait")
    s = rollout_status(mlgw, stack)
    assert s["share"] == 0 and "after waiting 3s beyond its bake time" in s["reason"]
    assert [e["type"] for e in events(mlgw)] == ["RolloutStarted", "RolloutWaitingForTraffic", "RolloutRolledBack"]
    # All traffic goes to the current variant again.
    c = mlgw.client(stack)
    assert {c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv")["InvokedProductionVariant"] for _ in range(20)} == {"current"}


def test_a_rollout_told_to_halt_stops_at_its_step(mlgw, tmp_path):
    stack = stack_file(tmp_path, f"{ROOT}/examples/models/churn-v2.json", ", max_wait: 1s, on_too_little_traffic: halt")
    mlgw.run("apply", stack, "--auto-approve")
    wait_for(lambda: rollout_status(mlgw, stack)["state"] == "halted", timeout=15, what="the rollout to halt")
    s = rollout_status(mlgw, stack)
    assert s["share"] == 20 and "has seen 0 of the 10 requests" in s["reason"]
    assert "halted" in mlgw.run("status", stack).stdout
