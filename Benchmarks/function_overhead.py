"""What a warm function invocation adds over the handler's own time, and how long the first call
after apply takes (provisioned workers are warm before apply returns).

python3 Benchmarks/function_overhead.py [N=2000]   (needs the release build)

Applies Benchmarks/stacks/gateway.yaml, calls Lambda Invoke on the environment's AWS URL over one
keep-alive connection, and subtracts the time the handler reports for itself (it spins for the
requested microseconds) from the round trip. The round trip includes the client's own HTTP work,
so the figure is an upper bound on what mlgw-deploy adds.
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, ".build", "release", "mlgw-deploy")
STACK = os.path.join(ROOT, "Benchmarks", "stacks", "gateway.yaml")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def main():
    state = tempfile.mkdtemp()
    env = dict(os.environ, MLGW_STATE_DIR=state, BENCH_API_KEY="bench-" + "k" * 32)
    run = lambda *a: subprocess.run([BIN, *a], env=env, check=True, capture_output=True, text=True).stdout  # noqa: E731
    try:
        run("apply", STACK, "--auto-approve")
        url = run("output", STACK, "aws_endpoint_url").strip()
        conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]))

        def invoke(spin_us):
            body = json.dumps({"spin_us": spin_us})
            t0 = time.perf_counter()
            conn.request("POST", "/2015-03-31/functions/noop/invocations", body=body, headers={"content-type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            rtt = (time.perf_counter() - t0) * 1000
            assert r.status == 200 and not r.getheader("x-amz-function-error"), data
            return rtt, json.loads(data)["handler_ms"]

        first_rtt, first_handler = invoke(0)
        print(f"first call after apply: {first_rtt:.3f} ms (handler {first_handler:.3f} ms)")
        for spin in (0, 1000):
            for _ in range(200):
                invoke(spin)
            overheads, rtts = [], []
            for _ in range(N):
                rtt, handler = invoke(spin)
                rtts.append(rtt)
                overheads.append(rtt - handler)
            overheads.sort()
            print(json.dumps({"handler_spin_us": spin, "calls": N, "median_rtt_ms": round(statistics.median(rtts), 4),
                              "median_overhead_ms": round(statistics.median(overheads), 4),
                              "p99_overhead_ms": round(overheads[int(N * 0.99)], 4)}))
    finally:
        subprocess.run([BIN, "destroy", STACK, "--auto-approve"], env=env, capture_output=True)


if __name__ == "__main__":
    main()
