"""End-to-end fixtures: run the built mlgw-deploy binary against stacks, each test in its own
state folder, and make sure every process a test started is gone afterwards, even on failure."""
import json
import os
import shutil
import signal
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("MLGW_BIN", os.path.join(ROOT, ".build", "debug", "mlgw-deploy"))


def live_processes(marker):
    """Processes (not zombies) whose command line mentions `marker`."""
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,stat=,args="], capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        pid, stat, args = line.strip().split(None, 2)
        if marker in args and not stat.startswith("Z") and int(pid) != os.getpid() and "ps -eo" not in args:
            found.append((int(pid), args))
    return found


def process_alive(pid):
    """True while `pid` runs and is not a zombie (a process can vanish between two reads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False


def port_listening(port):
    import socket
    s = socket.socket()
    s.settimeout(0.5)
    try:
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


class MLGW:
    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.used = set()

    def run(self, *args, check=True, env=None, timeout=120, stdin=None):
        cmd = [BIN] + [str(a) for a in args]
        full_env = dict(os.environ, MLGW_STATE_DIR=self.state_dir, NO_COLOR="1")
        full_env.update(env or {})
        stack = next((a for a in args[1:] if str(a).endswith((".yaml", ".yml")) or os.path.isdir(str(a))), None)
        if args and args[0] in ("apply", "plan") and stack:
            e = "default"
            if "--env" in args:
                e = args[list(args).index("--env") + 1]
            self.used.add((str(stack), e))
        p = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=ROOT, stdin=stdin or subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p

    def output(self, stack, name, env="default"):
        return self.run("output", stack, name, "--env", env).stdout.strip()

    def status(self, stack, env="default"):
        # Exit 3 says the environment is not running; the JSON is printed either way.
        p = self.run("status", stack, "--json", "--env", env, check=False)
        assert p.returncode in (0, 3), p.stderr
        view = json.loads(p.stdout)
        assert (p.returncode == 0) == view["running"]
        return view

    def client(self, stack, env="default", retries=1):
        url = self.output(stack, "aws_endpoint_url", env)
        return boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": retries, "mode": "standard"},
                                          max_pool_connections=16))

    def instances(self, stack, env="default"):
        """{variant: [(instance id, pid, state, restarts)]} of the first endpoint."""
        host = self.status(stack, env)["host"]
        result = {}
        for e in host["endpoints"]:
            for v in e["variants"]:
                result[v["name"]] = [(i["id"], i["pid"], i["state"], i["restarts"]) for i in v["instances"]]
        return result


@pytest.fixture
def mlgw(tmp_path):
    state_dir = str(tmp_path / "state")
    m = MLGW(state_dir)
    yield m
    for stack, env in sorted(m.used):
        subprocess.run([BIN, "destroy", stack, "--env", env, "--auto-approve"], capture_output=True,
                       env=dict(os.environ, MLGW_STATE_DIR=state_dir), cwd=ROOT, timeout=60)
    # Whatever destroy could not stop (a test that broke things on purpose) is killed here.
    for pid, _ in live_processes(state_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def workdir(tmp_path):
    """A copy of stacks/ and examples/ that a test may edit."""
    d = tmp_path / "work"
    shutil.copytree(os.path.join(ROOT, "stacks"), d / "stacks")
    shutil.copytree(os.path.join(ROOT, "examples"), d / "examples")
    return d


def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
