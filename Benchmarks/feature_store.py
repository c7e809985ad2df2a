"""Feature store benchmarks, side by side on the same rows (results go to docs/benchmarks.md):

- ingest of a 10-feature CSV into the SQLite online store and the offline store (rows/s);
- GetRecord over HTTP on loopback: median and p99 at 1,000 req/s (paced, one keep-alive
  connection, Python's client included), and throughput at saturation (wrk -t2 -c32, random ids);
- BatchGetRecord of 100 identifiers: median and p99;
- native enrichment: a gateway route that appends two stored features against the same route
  given the whole row, and the function path (boto3 GetRecord + InvokeEndpoint) beside them;
- the PostgreSQL online store (when MLGW_TEST_POSTGRES_URL is set, as under scripts/with-postgres):
  ingest and GetRecord beside the SQLite store;
- Feast (optional, `--feast VENV`): its SQLite online store behind `feast serve`, the same rows,
  `POST /get-online-features` for one entity: latency at the same rate, and throughput with wrk.

[scripts/with-postgres] python3 Benchmarks/feature_store.py [--rows 500000] [--seconds 10] [--feast /tmp/feastenv]
Build first: swift build -c release --product mlgw-deploy
"""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, ".build", "release", "mlgw-deploy")
FEATURES = ["f_int1", "f_int2", "f_int3", "f_frac1", "f_frac2", "f_frac3", "f_frac4", "f_str1", "f_str2"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(*args, env):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT)
    if p.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{p.stdout}\n{p.stderr}")
    return p


def paced(rate, n, conn_factory, request):
    """Median and p99 (ms) of n requests paced at `rate`, after 200 warm-up requests."""
    conn = conn_factory()
    samples = []
    interval = 1 / rate
    start = time.perf_counter()
    for i in range(n + 200):
        target = start + i * interval
        now = time.perf_counter()
        if target > now:
            time.sleep(target - now)
        t0 = time.perf_counter()
        try:
            status = request(conn, i)
        except (ConnectionError, http.client.HTTPException):
            # A server that closes idle keep-alive connections: reconnect and count the retry.
            conn = conn_factory()
            status = request(conn, i)
        assert status == 200, status
        if i >= 200:
            samples.append((time.perf_counter() - t0) * 1e3)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 4), "p99_ms": round(samples[int(len(samples) * 0.99)], 4), "requests": len(samples)}


def wrk(url, script, seconds):
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "-s", script, url], capture_output=True, text=True).stdout
    rps = float(next(line for line in out.splitlines() if line.startswith("Requests/sec")).split()[1])
    errors = [line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    return {"requests_per_s": round(rps), "errors": errors}


def wrk_latency(url, script, seconds):
    """One connection, one request at a time (wrk -t1 -c1 --latency): the server's answer time
    without a Python client's own cost; its rate is far above 1,000 req/s, so its latencies are an
    upper bound of those at 1,000 req/s."""
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", "-s", script, url], capture_output=True, text=True).stdout
    def ms(label):
        line = next(l for l in out.splitlines() if l.strip().startswith(label))
        v = line.split()[1]
        return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
    rps = float(next(line for line in out.splitlines() if line.startswith("Requests/sec")).split()[1])
    return {"p50_ms": ms("50%"), "p99_ms": ms("99%"), "requests_per_s": round(rps)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--feast", help="a virtualenv with feast installed (pip install feast)")
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    env = dict(os.environ, MLGW_STATE_DIR=os.path.join(work, "state"), NO_COLOR="1")
    stack = os.path.join(work, "bench.yaml")
    results = {}
    try:
        rng = random.Random(5)
        csv_path = os.path.join(work, "rows.csv")
        with open(csv_path, "w") as f:
            f.write("id,event_time," + ",".join(FEATURES) + "\n")
            for i in range(a.rows):
                f.write(f"u{i},{1793491200 + i % 86400},{rng.randrange(100)},{rng.randrange(10**6)},{i},{rng.random():.6f},{rng.random() * 100:.4f},"
                        f"{rng.random():.3f},{rng.random() * 1e4:.2f},seg{i % 7},{'DE' if i % 2 else 'FR'}\n")
        features = "\n".join(f"      {n}: {'Integral' if n.startswith('f_int') else 'Fractional' if n.startswith('f_frac') else 'String'}" for n in FEATURES)
        model = os.path.join(ROOT, "examples", "models", "enterprise-v1.json")
        postgres = os.environ.get("MLGW_TEST_POSTGRES_URL")
        pg_group = ""
        if postgres:
            env["MLGW_BENCH_DB"] = postgres
            pg_group = f"""  bench_pg:
    record_identifier: id
    event_time: event_time
    online: {{store: postgres, url: "${{var.db}}"}}
    features:
      id: String
      event_time: Fractional
{features}"""
        with open(stack, "w") as f:
            f.write(f"""stack: bench
variables:
  db: {{type: string, sensitive: true, from_env: MLGW_BENCH_DB, default: unused}}
models:
  m: {{runtime: linear, artifact: {model}}}
endpoints:
  e:
    variants: {{only: {{model: m}}}}
feature_groups:
  bench:
    record_identifier: id
    event_time: event_time
    features:
      id: String
      event_time: Fractional
{features}
  customers:
    record_identifier: customer_id
    event_time: event_time
    features: {{customer_id: String, event_time: Fractional, age: Integral, spend_30d: Fractional, country: String, segment: String}}
    load: {ROOT}/examples/data/customers.csv
{pg_group}
functions:
  enrich:
    runtime: python3
    handler: enrich.handler
    code: {ROOT}/examples/functions
    environment: {{ENDPOINT_NAME: e, FEATURE_GROUP: customers, AWS_ENDPOINT_URL: "${{environment.aws_endpoint_url}}"}}
    provisioned_concurrency: 1
gateway:
  stages:
    s:
      routes:
        POST /plain/{{customer_id}}: {{endpoint: e}}
        POST /enriched/{{customer_id}}:
          endpoint: e
          enrich: {{feature_group: customers, record_identifier: {{path: customer_id}}, features: [age, spend_30d]}}
        POST /function/{{customer_id}}: {{function: enrich}}
""")
        run("apply", stack, "--auto-approve", env=env)
        status = json.loads(subprocess.run([BIN, "status", stack, "--json"], capture_output=True, text=True, env=env).stdout)
        aws, gw = status["host"]["awsPort"], status["host"]["gatewayPort"]
        # Ingest.
        t0 = time.perf_counter()
        out = run("ingest", stack, "bench", csv_path, env=env).stdout
        seconds = time.perf_counter() - t0
        results["ingest"] = {"rows": a.rows, "seconds": round(seconds, 2), "rows_per_s": round(a.rows / seconds), "cli": out.strip()}
        if postgres:
            t0 = time.perf_counter()
            out = run("ingest", stack, "bench_pg", csv_path, env=env).stdout
            seconds = time.perf_counter() - t0
            results["postgres_ingest"] = {"rows": a.rows, "seconds": round(seconds, 2), "rows_per_s": round(a.rows / seconds)}
        for group in ["bench"] + (["bench_pg"] if postgres else []):
            label = "" if group == "bench" else "postgres_"
            # GetRecord at 1,000 req/s.
            def get(conn, i, group=group):
                conn.request("GET", f"/FeatureGroup/{group}?RecordIdentifierValueAsString=u{(i * 7919) % a.rows}")
                r = conn.getresponse()
                r.read()
                return r.status
            results[f"{label}get_record_1000rps"] = paced(1000, 5000, lambda: http.client.HTTPConnection("127.0.0.1", aws), get)
            lua = os.path.join(work, f"get-{group}.lua")
            with open(lua, "w") as f:
                f.write(f"math.randomseed(7)\nrequest = function()\n  return wrk.format('GET', '/FeatureGroup/{group}?RecordIdentifierValueAsString=u' .. math.random(0, {a.rows - 1}))\nend\n")
            results[f"{label}get_record_saturation"] = wrk(f"http://127.0.0.1:{aws}", lua, a.seconds)
            results[f"{label}get_record_one_connection"] = wrk_latency(f"http://127.0.0.1:{aws}", lua, 5)
        # BatchGetRecord of 100 ids.
        def batch(conn, i):
            ids = [f"u{(i * 100 + k) % a.rows}" for k in range(100)]
            conn.request("POST", "/BatchGetRecord", body=json.dumps({"Identifiers": [{"FeatureGroupName": "bench", "RecordIdentifiersValueAsString": ids}]}),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
            assert len(json.loads(body)["Records"]) == 100
            return r.status
        results["batch_get_100"] = paced(200, 2000, lambda: http.client.HTTPConnection("127.0.0.1", aws), batch)
        lua = os.path.join(work, "batch.lua")
        with open(lua, "w") as f:
            body = json.dumps({"Identifiers": [{"FeatureGroupName": "bench", "RecordIdentifiersValueAsString": [f"u{k * 4999}" for k in range(100)]}]})
            f.write("wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nwrk.path = '/BatchGetRecord'\nwrk.body = '" + body + "'\n")
        results["batch_get_100_one_connection"] = wrk_latency(f"http://127.0.0.1:{aws}", lua, 5)
        # Enrichment: interleaved, so both routes see the same conditions.
        conns = {k: http.client.HTTPConnection("127.0.0.1", gw) for k in ("plain", "enriched", "function")}
        bodies = {"plain": b"120.5,3,0.4,2,38,853.08", "enriched": b"120.5,3,0.4,2", "function": b"120.5,3,0.4,2"}
        samples = {k: [] for k in conns}
        kinds = ["plain", "enriched", "function"]
        start = time.perf_counter()
        for i in range(3 * 3200):
            target = start + i / 1000
            now = time.perf_counter()
            if target > now:
                time.sleep(target - now)
            k = kinds[i % 3]
            t0 = time.perf_counter()
            conns[k].request("POST", f"/s/{k}/c0001", body=bodies[k], headers={"Content-Type": "text/csv"})
            r = conns[k].getresponse()
            r.read()
            assert r.status == 200, (k, r.status)
            if i >= 600:
                samples[k].append((time.perf_counter() - t0) * 1e3)
        for k, s in samples.items():
            s.sort()
            results[f"route_{k}"] = {"median_ms": round(statistics.median(s), 4), "p99_ms": round(s[int(len(s) * 0.99)], 4)}
        results["enrichment_adds_median_ms"] = round(results["route_enriched"]["median_ms"] - results["route_plain"]["median_ms"], 4)
        if a.feast:
            results["feast"] = feast(a, work, csv_path)
        print(json.dumps(results, indent=2))
    finally:
        subprocess.run([BIN, "destroy", stack, "--auto-approve"], capture_output=True, env=env)
        shutil.rmtree(work, ignore_errors=True)


def feast(a, work, csv_path):
    """Feast 0.x with its SQLite online store and `feast serve`, loaded with the same rows."""
    py = os.path.join(a.feast, "bin", "python")
    repo = os.path.join(work, "feast_repo")
    os.makedirs(repo)
    parquet = os.path.join(work, "rows.parquet")
    subprocess.run([py, "-c", f"""
import pandas as pd
df = pd.read_csv({csv_path!r})
df["event_time"] = pd.to_datetime(df["event_time"], unit="s", utc=True)
df.to_parquet({parquet!r})
"""], check=True)
    with open(os.path.join(repo, "feature_store.yaml"), "w") as f:
        f.write(f"project: bench\nregistry: {work}/registry.db\nprovider: local\nonline_store:\n  type: sqlite\n  path: {work}/online.db\nentity_key_serialization_version: 3\n")
    fields = ",\n    ".join(f'Field(name="{n}", dtype={"Int64" if n.startswith("f_int") else "Float64" if n.startswith("f_frac") else "String"})' for n in FEATURES)
    with open(os.path.join(repo, "repo.py"), "w") as f:
        f.write(f"""from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float64, Int64, String
user = Entity(name="id", join_keys=["id"])
source = FileSource(path={parquet!r}, timestamp_field="event_time")
bench = FeatureView(name="bench", entities=[user], ttl=timedelta(days=3650), schema=[
    {fields}
], source=source)
""")
    feast_bin = os.path.join(a.feast, "bin", "feast")
    subprocess.run([feast_bin, "apply"], cwd=repo, check=True, capture_output=True)
    t0 = time.perf_counter()
    subprocess.run([feast_bin, "materialize", "2026-01-01T00:00:00", "2030-01-01T00:00:00"], cwd=repo, check=True, capture_output=True)
    materialize = time.perf_counter() - t0
    port = free_port()
    server = subprocess.Popen([feast_bin, "serve", "-h", "127.0.0.1", "-p", str(port)], cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        body = lambda i: json.dumps({"features": [f"bench:{n}" for n in FEATURES], "entities": {"id": [f"u{(i * 7919) % a.rows}"]}})

        def get(conn, i):
            conn.request("POST", "/get-online-features", body=body(i), headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            return r.status
        latency = paced(1000, 3000, lambda: http.client.HTTPConnection("127.0.0.1", port), get)
        lua = os.path.join(work, "feast.lua")
        with open(lua, "w") as f:
            f.write("wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nwrk.body = '" + body(1) + "'\n")
        return {"materialize_seconds": round(materialize, 2), "get_online_features_1000rps": latency, "saturation": wrk(f"http://127.0.0.1:{port}/get-online-features", lua, a.seconds)}
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
