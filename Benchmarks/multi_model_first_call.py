"""First call to a not-yet-loaded model of a multi-model endpoint (target: under 50 ms): 1,000
small linear models behind one endpoint with one instance; each is called once over a keep-alive
connection straight to the environment's AWS URL (no SDK), then once more (loaded).

python3 Benchmarks/multi_model_first_call.py   (after swift build -c release --product mlgw-deploy)
"""
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release", "mlgw-deploy")

with tempfile.TemporaryDirectory() as work:
    models = os.path.join(work, "models")
    os.mkdir(models)
    for i in range(1000):
        with open(os.path.join(models, f"m{i:04d}.json"), "w") as f:
            json.dump({"objective": "logistic", "coefficients": [0.01 * i, -0.2, 0.3], "intercept": 0.1}, f)
    stack = os.path.join(work, "mme.yaml")
    with open(stack, "w") as f:
        f.write(f"stack: bench-mme\nendpoints:\n  mme:\n    multi_model: {{artifacts: {models}, cache: {{models: 100}}}}\n    instances: 1\n")
    env = dict(os.environ, MLGW_STATE_DIR=os.path.join(work, "state"))
    subprocess.run([BIN, "apply", stack, "--auto-approve"], check=True, capture_output=True, env=env)
    try:
        url = urlparse(subprocess.run([BIN, "output", stack, "aws_endpoint_url"], check=True, capture_output=True, text=True, env=env).stdout.strip())
        conn = http.client.HTTPConnection(url.hostname, url.port)

        def call(name):
            t = time.perf_counter()
            conn.request("POST", "/endpoints/mme/invocations", body=b"1,2,3",
                         headers={"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Model": name})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
            return (time.perf_counter() - t) * 1e3

        first = sorted(call(f"m{i:04d}.json") for i in range(1000))
        loaded = sorted(call(f"m{i:04d}.json") for i in range(900, 1000))  # the 100 most recent are cached
    finally:
        subprocess.run([BIN, "destroy", stack, "--auto-approve"], capture_output=True, env=env)
print(f"first call to an unloaded model: median {statistics.median(first):.2f} ms, p99 {first[989]:.2f} ms, max {first[-1]:.2f} ms "
      f"(target < 50 ms); a loaded model: median {statistics.median(loaded):.2f} ms")
