"""The seam between kinds and the host: functions whose pool settings change are re-configured in
place, the host drains on SIGTERM, and no value of a stack reaches the host out of range."""
import json
import os
import signal
import threading
import time

from conftest import live_processes, process_alive, wait_for
from test_functions import invoke, lambda_client, write_stack


def worker_pids(mlgw, stack):
    host = mlgw.status(stack)["host"]
    return sorted(w["pid"] for f in host["functions"] for w in f["workers"])


def test_concurrency_and_timeout_changes_keep_the_workers_code_changes_replace_them(mlgw, tmp_path):
    stack = write_stack(tmp_path, provisioned=1, reserved=3, timeout="1s")
    mlgw.run("apply", stack, "--auto-approve")
    before = worker_pids(mlgw, stack)
    assert len(before) == 1

    # More provisioned workers, a longer timeout, other async settings: the pool changes in place.
    stack = write_stack(tmp_path, provisioned=2, reserved=4, timeout="3s")
    plan = mlgw.run("plan", stack).stdout
    assert "provisioned_concurrency = 1 -> 2  # in place, no restart" in plan
    assert "timeout                 = 1 -> 3  # in place, no restart" in plan
    mlgw.run("apply", stack, "--auto-approve")
    after = worker_pids(mlgw, stack)
    assert len(after) == 2 and before[0] in after, (before, after)
    # The new timeout is in force on the worker that was already there.
    client = lambda_client(mlgw, stack)
    r, body = invoke(client, {"sleep": 1.5})
    assert "FunctionError" not in r and body["version"] == "v1"

    # Fewer reserved than run: the extra idle worker stops, the first stays.
    stack = write_stack(tmp_path, provisioned=1, reserved=1, timeout="3s")
    mlgw.run("apply", stack, "--auto-approve")
    wait_for(lambda: len(worker_pids(mlgw, stack)) == 1, what="the surplus worker to stop")
    assert worker_pids(mlgw, stack)[0] in after

    # New code: new workers.
    stack = write_stack(tmp_path, provisioned=1, reserved=1, timeout="3s", version="v2")
    mlgw.run("apply", stack, "--auto-approve")
    r, body = invoke(client, {})
    assert body["version"] == "v2"
    wait_for(lambda: not set(worker_pids(mlgw, stack)) & set(after), what="the old workers to stop")


def test_sigterm_drains_the_host_then_stops_everything(mlgw, tmp_path):
    stack = write_stack(tmp_path, provisioned=1, reserved=2, timeout="5s")
    mlgw.run("apply", stack, "--auto-approve")
    host = mlgw.status(stack)["host"]
    children = [i["pid"] for e in host["endpoints"] for v in e["variants"] for i in v["instances"]] + worker_pids(mlgw, stack)
    assert len(children) == 2
    client = lambda_client(mlgw, stack)
    # A call in flight when the signal arrives still gets its answer.
    results = []
    t = threading.Thread(target=lambda: results.append(invoke(client, {"sleep": 1.0})))
    t.start()
    time.sleep(0.3)
    os.kill(host["pid"], signal.SIGTERM)
    t.join(15)
    assert results, "the call in flight got no answer"
    r, body = results[0]
    assert "FunctionError" not in r and body["echo"] == {"sleep": 1.0}

    wait_for(lambda: not any(process_alive(p) for p in [host["pid"]] + children), timeout=20, what="the host and its children to exit")
    log = mlgw.run("logs", stack, "environment").stdout
    assert "environment stopping" in log and "environment stopped" in log
    # The next plan sees the environment gone and would create it again.
    assert "recorded in state but not running" in mlgw.run("plan", stack).stdout
