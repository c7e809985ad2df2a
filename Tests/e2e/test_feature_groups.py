"""Feature groups: SageMaker's featurestore-runtime API with boto3 and the AWS CLI, the stores'
semantics, load files and ingest, data kept across applies and host restarts, and replacements
that delete data only when asked."""
import glob
import json
import re
import os
import signal
import subprocess
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ROOT, wait_for

CUSTOMERS = os.path.join(ROOT, "examples", "data", "customers.csv")
POSTGRES = os.environ.get("MLGW_TEST_POSTGRES_URL")
# The online store the stacks below use: set by the `backend` fixture.
ONLINE = {"store": None}


def use_postgres(monkeypatch):
    """The PostgreSQL server scripts/with-postgres started (scripts/test, and so CI, runs every test under it)."""
    assert POSTGRES, "no PostgreSQL server: run the tests with scripts/test, or under scripts/with-postgres"
    monkeypatch.setenv("MLGW_FEATURES_DB", POSTGRES)
    subprocess.run(["psql", POSTGRES, "-q", "-c", "DROP TABLE IF EXISTS mlgw_feature_records"], capture_output=True, timeout=30)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, monkeypatch):
    """Runs a test once per online store."""
    if request.param == "postgres":
        use_postgres(monkeypatch)
    ONLINE["store"] = request.param
    yield request.param
    ONLINE["store"] = None


@pytest.fixture
def postgres(monkeypatch):
    """A test of the PostgreSQL online store alone."""
    use_postgres(monkeypatch)
    ONLINE["store"] = "postgres"
    yield
    ONLINE["store"] = None


def online(ttl=None):
    parts = ([f"ttl: {ttl}"] if ttl else []) + (['store: postgres', 'url: "${var.features_db}"'] if ONLINE["store"] == "postgres" else [])
    return f"online: {{{', '.join(parts)}}}" if parts else ""


def stack_file(tmp_path, age="Integral", ttl=None, extra_features="", load=CUSTOMERS):
    path = tmp_path / "features.yaml"
    path.write_text(f"""stack: features
variables:
  features_db: {{type: string, sensitive: true, from_env: MLGW_FEATURES_DB, default: unused}}
feature_groups:
  customers:
    record_identifier: customer_id
    event_time: event_time
    features:
      customer_id: String
      event_time: Fractional
      age: {age}
      spend_30d: Fractional
      country: String
      segment: String
      tags: {{type: String, collection: List}}{extra_features}
    {online(ttl)}
    load: [{load}]
  events:
    record_identifier: id
    event_time: at
    features: {{id: Integral, at: String, kind: String}}
    {online()}
""")
    return str(path)


def client(mlgw, stack):
    url = mlgw.output(stack, "aws_endpoint_url")
    return boto3.client("sagemaker-featurestore-runtime", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def values(record):
    return {f["FeatureName"]: f.get("ValueAsString", f.get("ValueAsStringList")) for f in record}


def group_status(mlgw, stack, name="customers"):
    return next(g for g in mlgw.status(stack)["host"]["featureGroups"] if g["configuration"]["name"] == name)


def offline_rows(mlgw, group="customers", stack="features"):
    rows = []
    for f in sorted(glob.glob(os.path.join(mlgw.state_dir, stack, "default", "data", "feature-store", "offline", group, "**", "*.jsonl"), recursive=True)):
        with open(f) as fh:
            rows += [json.loads(line) for line in fh]
    return rows


def test_boto3_and_the_cli_read_and_write_records_as_sagemaker_does(mlgw, tmp_path, backend):
    stack = stack_file(tmp_path)
    plan = mlgw.run("plan", stack).stdout
    assert '+ features.tags        = "String List"' in plan and "feature_groups.events will be created" in plan
    out = mlgw.run("apply", stack, "--auto-approve").stdout
    assert "feature_groups.customers: created" in out
    c = client(mlgw, stack)
    # The load file warmed the group up at apply.
    first = c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c0001")["Record"]
    assert values(first) == {"customer_id": "c0001", "event_time": "1793491260", "age": "38", "spend_30d": "853.08", "country": "GB", "segment": "enterprise"}
    assert [f["FeatureName"] for f in first][:2] == ["customer_id", "event_time"]  # in the order ingested
    only = c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c0001", FeatureNames=["age", "country"])
    assert values(only["Record"]) == {"age": "38", "country": "GB"} and "ExpiresAt" not in only
    # An unknown identifier is an empty answer; an unknown group is ResourceNotFound.
    assert "Record" not in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="nobody")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.get_record(FeatureGroupName="customer", RecordIdentifierValueAsString="c0001")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # PutRecord replaces the whole record; a collection travels as ValueAsStringList; the ARN names the group too.
    arn = "arn:aws:sagemaker:us-east-1:000000000000:feature-group/customers"
    c.put_record(FeatureGroupName=arn, Record=[{"FeatureName": "customer_id", "ValueAsString": "c0001"},
                                               {"FeatureName": "event_time", "ValueAsString": "1893456000"},
                                               {"FeatureName": "tags", "ValueAsStringList": ["vip", "new"]}])
    assert values(c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c0001")["Record"]) == {
        "customer_id": "c0001", "event_time": "1893456000", "tags": ["vip", "new"]}
    # An older record is history: offline only.
    c.put_record(FeatureGroupName="customers", Record=[{"FeatureName": "customer_id", "ValueAsString": "c0001"},
                                                       {"FeatureName": "event_time", "ValueAsString": "1000"},
                                                       {"FeatureName": "age", "ValueAsString": "99"}])
    assert "age" not in values(c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c0001")["Record"])
    # BatchGetRecord: several groups, all three keys always present, unknown groups as errors.
    c.put_record(FeatureGroupName="events", Record=[{"FeatureName": "id", "ValueAsString": "7"},
                                                    {"FeatureName": "at", "ValueAsString": "2026-11-30T10:00:00Z"},
                                                    {"FeatureName": "kind", "ValueAsString": "login"}])
    r = c.batch_get_record(Identifiers=[
        {"FeatureGroupName": "customers", "RecordIdentifiersValueAsString": ["c0002", "c0003", "nobody"], "FeatureNames": ["age"]},
        {"FeatureGroupName": "events", "RecordIdentifiersValueAsString": ["7"]},
        {"FeatureGroupName": "missing", "RecordIdentifiersValueAsString": ["1"]}])
    assert [(x["FeatureGroupName"], x["RecordIdentifierValueAsString"]) for x in r["Records"]] == [("customers", "c0002"), ("customers", "c0003"), ("events", "7")]
    assert values(r["Records"][0]["Record"]) == {"age": "21"}
    assert [(x["FeatureGroupName"], x["ErrorCode"]) for x in r["Errors"]] == [("missing", "ResourceNotFound")]
    assert r["UnprocessedIdentifiers"] == []
    # The AWS CLI, unchanged.
    url = mlgw.output(stack, "aws_endpoint_url")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    cli = subprocess.run(["aws", "--endpoint-url", url, "sagemaker-featurestore-runtime", "get-record", "--feature-group-name", "customers",
                          "--record-identifier-value-as-string", "c0002"], capture_output=True, text=True, env=env, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert values(json.loads(cli.stdout)["Record"])["age"] == "21"
    # features get, and status.
    got = mlgw.run("features", "get", stack, "customers", "c0002").stdout
    assert re.search(r"^age +21$", got, re.M) and "(expires at" not in got
    assert mlgw.run("features", "get", stack, "customers", "nobody", check=False).returncode == 3
    status = mlgw.run("status", stack).stdout
    assert "feature groups (featurestore-runtime at" in status and "loaded 200 rows" in status
    # The offline store: every write, partitioned by event time, with SageMaker's columns.
    wait_for(lambda: len(offline_rows(mlgw)) == 202, timeout=10, what="the offline store's flush")
    rows = offline_rows(mlgw)
    history = [r for r in rows if r["customer_id"] == "c0001"]
    assert sorted(r["event_time"] for r in history) == [1000.0, 1793491260.0, 1893456000.0]
    assert {"api_invocation_time", "write_time", "is_deleted"} <= set(rows[0]) and rows[0]["is_deleted"] is False
    assert glob.glob(os.path.join(mlgw.state_dir, "features", "default", "data", "feature-store", "offline", "customers", "year=1970", "month=01", "day=01", "hour=00", "*.jsonl"))


def test_deletes_and_ttl_follow_sagemaker(mlgw, tmp_path, backend):
    stack = stack_file(tmp_path, ttl="3s")
    mlgw.run("apply", stack, "--auto-approve")
    c = client(mlgw, stack)
    now = int(time.time())
    put = lambda cid, t, ttl=None: c.put_record(FeatureGroupName="customers", Record=[
        {"FeatureName": "customer_id", "ValueAsString": cid}, {"FeatureName": "event_time", "ValueAsString": str(t)}],
        **({"TtlDuration": ttl} if ttl else {}))
    put("fresh", now)
    put("own", now, {"Unit": "Seconds", "Value": 1})
    r = c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="fresh", ExpirationTimeResponse="Enabled")
    assert r["ExpiresAt"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now + 3)))
    # The loaded records are long expired by a 3 s TTL.
    assert "Record" not in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="c0001")
    wait_for(lambda: "Record" not in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="own"), timeout=5, what="the record's own TTL")
    assert "Record" in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="fresh")
    wait_for(lambda: "Record" not in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="fresh"), timeout=6, what="the group's TTL")
    assert c.batch_get_record(Identifiers=[{"FeatureGroupName": "customers", "RecordIdentifiersValueAsString": ["fresh", "own"]}])["Records"] == []
    # Deletes: a hard delete older than the record fails; a soft one hides it.
    put("d", now + 3600)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.delete_record(FeatureGroupName="customers", RecordIdentifierValueAsString="d", EventTime=str(now), DeletionMode="HardDelete")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "Record" in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="d")
    c.delete_record(FeatureGroupName="customers", RecordIdentifierValueAsString="d", EventTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3601)))
    assert "Record" not in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="d")
    wait_for(lambda: any(r["customer_id"] == "d" and r["is_deleted"] for r in offline_rows(mlgw)), timeout=10, what="the delete's marker offline")


@pytest.mark.parametrize("record,code,why", [
    ([{"FeatureName": "customer_id", "ValueAsString": "x"}, {"FeatureName": "event_time", "ValueAsString": "1"}, {"FeatureName": "age", "ValueAsString": "forty"}],
     "ValidationError", "feature 'age': 'forty' is not an Integral"),
    ([{"FeatureName": "customer_id", "ValueAsString": "x"}, {"FeatureName": "event_time", "ValueAsString": "tomorrow"}],
     "ValidationError", "feature 'event_time': 'tomorrow' is not a Fractional"),
    ([{"FeatureName": "customer_id", "ValueAsString": "x"}, {"FeatureName": "event_time", "ValueAsString": "1"}, {"FeatureName": "colour", "ValueAsString": "red"}],
     "ValidationError", "feature 'colour': feature group 'customers' has no such feature"),
    ([{"FeatureName": "customer_id", "ValueAsString": "x"}, {"FeatureName": "event_time", "ValueAsString": "1"}, {"FeatureName": "country", "ValueAsString": "x" * 358_401}],
     "ValidationError", "a value holds at most 358400 characters"),
    ([{"FeatureName": "event_time", "ValueAsString": "1"}], "ValidationError", "the record identifier is missing"),
])
def test_a_bad_record_is_refused_and_nothing_is_stored(mlgw, tmp_path, backend, record, code, why):
    stack = stack_file(tmp_path, load=CUSTOMERS)
    mlgw.run("apply", stack, "--auto-approve")
    c = client(mlgw, stack)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.put_record(FeatureGroupName="customers", Record=record)
    assert e.value.response["Error"]["Code"] == code and why in e.value.response["Error"]["Message"]
    assert "Record" not in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="x")
    assert group_status(mlgw, stack)["onlineRecords"] == 200 and group_status(mlgw, stack)["offlineRows"] == 200


def test_malformed_requests_get_the_apis_errors(mlgw, tmp_path):
    import urllib.request
    stack = stack_file(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    url = mlgw.output(stack, "aws_endpoint_url")

    def call(method, path, body=None):
        req = urllib.request.Request(url + path, data=body, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("x-amzn-errortype"), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("x-amzn-errortype"), e.read()

    assert call("PUT", "/FeatureGroup/customers", b"{not json")[:2] == (400, "ValidationError")
    assert call("PUT", "/FeatureGroup/customers", b'{"TargetStores": ["OnlineStore"]}')[:2] == (400, "ValidationError")
    assert call("GET", "/FeatureGroup/customers")[:2] == (400, "ValidationError")  # no identifier
    assert call("DELETE", "/FeatureGroup/customers?RecordIdentifierValueAsString=c0001")[:2] == (400, "ValidationError")  # no event time
    assert call("POST", "/BatchGetRecord", json.dumps({"Identifiers": []}).encode())[:2] == (400, "ValidationError")
    too_many = {"Identifiers": [{"FeatureGroupName": "customers", "RecordIdentifiersValueAsString": [str(i) for i in range(101)]}]}
    assert call("POST", "/BatchGetRecord", json.dumps(too_many).encode())[:2] == (400, "ValidationError")
    assert call("PUT", "/FeatureGroup/customers", json.dumps({"Record": [{"FeatureName": "customer_id", "ValueAsString": "x"},
                {"FeatureName": "event_time", "ValueAsString": "1"}], "TtlDuration": {"Unit": "Years", "Value": 1}}).encode())[:2] == (400, "ValidationError")
    # The environment still serves.
    assert call("GET", "/FeatureGroup/customers?RecordIdentifierValueAsString=c0001")[0] == 200


def test_a_replacement_deletes_data_only_when_asked(mlgw, tmp_path, backend):
    stack = stack_file(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    c = client(mlgw, stack)
    c.put_record(FeatureGroupName="customers", Record=[{"FeatureName": "customer_id", "ValueAsString": "mine"},
                                                       {"FeatureName": "event_time", "ValueAsString": "1893456000"}])
    # Adding a feature is in place and keeps every record.
    stack = stack_file(tmp_path, extra_features="\n      churn_score: Fractional")
    assert "will be updated in place" in mlgw.run("plan", stack).stdout
    mlgw.run("apply", stack, "--auto-approve")
    assert "Record" in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="mine")
    # Changing a type replaces the group: the plan says what is lost, and apply refuses without the flag.
    stack = stack_file(tmp_path, age="Fractional", extra_features="\n      churn_score: Fractional")
    plan = mlgw.run("plan", stack).stdout
    assert "DATA LOSS: replaces feature group 'customers': its 201 online records and 201 offline rows of history are deleted" in plan
    assert json.loads(mlgw.run("plan", stack, "--json").stdout)["changes"][0]["data_loss"].startswith("replaces feature group 'customers'")
    with open(os.path.join(mlgw.state_dir, "features", "default", "state.json")) as f:
        before = f.read()
    refused = mlgw.run("apply", stack, "--auto-approve", check=False)
    assert refused.returncode == 1 and "this apply would delete stored data, and nothing was changed" in refused.stderr
    with open(os.path.join(mlgw.state_dir, "features", "default", "state.json")) as f:
        assert f.read() == before
    assert "Record" in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="mine")
    mlgw.run("apply", stack, "--auto-approve", "--allow-data-loss")
    assert "Record" not in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="mine")
    assert group_status(mlgw, stack)["onlineRecords"] == 200  # loaded again from its file
    assert mlgw.run("plan", stack, "--detailed-exitcode", check=False).returncode == 0
    # Removing a group from the stack is data loss too; destroy needs no flag.
    (tmp_path / "features.yaml").write_text("stack: features\nvariables:\n  features_db: {type: string, sensitive: true, from_env: MLGW_FEATURES_DB, default: unused}\n"
                                            "feature_groups:\n  events:\n    record_identifier: id\n    event_time: at\n"
                                            f"    features: {{id: Integral, at: String, kind: String}}\n    {online()}\n")
    assert mlgw.run("apply", stack, "--auto-approve", check=False).returncode == 1
    mlgw.run("destroy", stack, "--auto-approve")


def test_records_survive_a_killed_host_and_a_killed_ingest(mlgw, tmp_path, backend):
    stack = stack_file(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    c = client(mlgw, stack)
    c.put_record(FeatureGroupName="customers", Record=[{"FeatureName": "customer_id", "ValueAsString": "acked"},
                                                       {"FeatureName": "event_time", "ValueAsString": "1893456000"}])
    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("customer_id,event_time,age\n")
        for i in range(300_000):
            f.write(f"u{i},{1793491200 + i},{i % 90}\n")
    host = mlgw.status(stack)["host"]["pid"]
    ingest = subprocess.Popen([os.environ.get("MLGW_BIN", os.path.join(ROOT, ".build", "debug", "mlgw-deploy")), "ingest", stack, "customers", str(big),
                               "--chunk-rows", "1000"], env=dict(os.environ, MLGW_STATE_DIR=mlgw.state_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: group_status(mlgw, stack)["onlineRecords"] > 5_000, timeout=60, interval=0.2, what="the ingest to be under way")
    os.kill(host, signal.SIGKILL)
    out, err = ingest.communicate(timeout=60)
    assert ingest.returncode == 1 and "error:" in err and "stored before it: loaded" in err
    acknowledged = int(err.split("stored before it: loaded ")[1].split(" ")[0].replace(",", ""))
    # A new host serves the same records: every acknowledged chunk, none half-written.
    assert "will be created" in mlgw.run("plan", stack).stdout
    mlgw.run("apply", stack, "--auto-approve")
    c = client(mlgw, stack)  # the new host listens on a new port
    assert "Record" in c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="acked")
    ingested = group_status(mlgw, stack)["onlineRecords"] - 201
    assert ingested % 1000 == 0 and ingested >= acknowledged
    wait_for(lambda: group_status(mlgw, stack)["offlineRows"] == len(offline_rows(mlgw)), timeout=10, what="the offline flush")
    # The same load file is not loaded again. A chunk's offline rows are queued before its online
    # write commits, so the chunk the kill cut short may be in the history alone (never in part).
    history = group_status(mlgw, stack)["offlineRows"] - (200 + 1 + ingested)
    assert history in (0, 1000), history
    assert mlgw.run("plan", stack, "--detailed-exitcode", check=False).returncode == 0


def test_ingest_reports_bad_rows_by_line_and_stores_the_rest(mlgw, tmp_path, backend):
    stack = stack_file(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"customer_id": "j1", "event_time": 1893456000, "age": 30}\n'
                    '{"customer_id": "j2", "event_time": 1893456000, "age": "thirty"}\n'
                    '\n'
                    '{"customer_id": "c0001", "event_time": 10, "age": 1}\n'
                    'not json\n')
    p = mlgw.run("ingest", stack, "customers", rows, check=False)
    assert p.returncode == 1
    assert f"{rows}:2: column 'age': 'thirty' is not an Integral" in p.stderr
    assert f"{rows}:5: the line is not a JSON object" in p.stderr
    assert "loaded 1 rows (1 older than stored, offline only, 2 rejected)" in p.stdout
    c = client(mlgw, stack)
    assert values(c.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="j1")["Record"])["age"] == "30"
    # A chunk is read in parts, one per core: lines are still the file's.
    many = tmp_path / "many.csv"
    with open(many, "w") as f:
        f.write("customer_id,event_time,age\n")
        for i in range(2, 50_002):
            f.write(f"m{i},1893456000,{'x' if i in (15_000, 35_001) else i % 90}\n")
    p = mlgw.run("ingest", stack, "customers", many, check=False)
    assert p.returncode == 1, p.stderr
    assert f"{many}:15000: column 'age': 'x' is not an Integral" in p.stderr and f"{many}:35001: column 'age'" in p.stderr
    assert "loaded 49,998 rows (2 rejected)" in p.stdout
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("customer_id,event_time,colour\nx,1,red\n")
    p = mlgw.run("ingest", stack, "customers", bad_header, check=False)
    assert p.returncode == 1 and "header: column 3 'colour' is not a feature of group 'customers'" in p.stderr
    p = mlgw.run("ingest", stack, "nogroup", rows, check=False)
    assert p.returncode == 1 and "no feature group 'nogroup' runs" in p.stderr and "running: customers, events" in p.stderr


def test_a_load_file_with_a_bad_row_fails_the_apply_and_loads_nothing(mlgw, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,event_time,age\na,1,1\nb,2,two\n")
    stack = stack_file(tmp_path, load=bad)
    p = mlgw.run("apply", stack, "--auto-approve", check=False)
    assert p.returncode == 1
    assert f"1 row of its load files cannot be stored, so none was loaded" in p.stderr and f"{bad}:3: column 'age': 'two' is not an Integral" in p.stderr


def test_a_training_set_is_point_in_time_correct(mlgw, tmp_path, backend):
    """The export against an independent computation from what the test itself wrote."""
    import csv
    import random
    stack = stack_file(tmp_path, ttl="500s")
    mlgw.run("apply", stack, "--auto-approve")
    c = client(mlgw, stack)
    rng = random.Random(11)
    base = 1_900_000_000
    written = {}  # id -> [(event_time, age or None when deleted)]
    times = rng.sample(range(0, 5000), 600)
    for i, t in enumerate(times):
        cid = f"e{i % 25}"
        if rng.random() < 0.1 and written.get(cid):
            c.delete_record(FeatureGroupName="customers", RecordIdentifierValueAsString=cid, EventTime=str(base + t))
            written.setdefault(cid, []).append((base + t, None))
        else:
            age = rng.randint(1, 99)
            c.put_record(FeatureGroupName="customers", Record=[{"FeatureName": "customer_id", "ValueAsString": cid},
                                                               {"FeatureName": "event_time", "ValueAsString": str(base + t)},
                                                               {"FeatureName": "age", "ValueAsString": str(age)}])
            written.setdefault(cid, []).append((base + t, age))
    entities = tmp_path / "entities.csv"
    rows = [(f"e{rng.randrange(30)}", base + rng.randrange(-100, 5600)) for _ in range(400)]
    with open(entities, "w") as f:
        f.write("customer_id,label_time\n" + "".join(f"{cid},{t}\n" for cid, t in rows))
    out = tmp_path / "train.csv"
    p = mlgw.run("features", "export", stack, "--entities", entities, "--as-of", "label_time", "--features", "customers:age", "--out", out)
    assert "wrote 400 rows with 1 features" in p.stderr
    with open(out) as f:
        got = list(csv.DictReader(f))

    def expected(cid, t):
        history = sorted(x for x in written.get(cid, []) if x[0] <= t)
        if not history:
            return ""
        at, age = history[-1]
        if age is None or t >= at + 500:
            return ""
        return str(age)

    assert [(r["customer_id"], int(r["label_time"])) for r in got] == rows
    mismatches = [(r, expected(r["customer_id"], int(r["label_time"]))) for r in got if r["age"] != expected(r["customer_id"], int(r["label_time"]))]
    assert not mismatches, mismatches[:5]
    assert sum(1 for r in got if r["age"]) > 100  # the case is not trivially empty
    # SQL over the offline store sees every write and delete.
    q = mlgw.run("features", "query", stack, "SELECT count(*), sum(is_deleted) FROM customers WHERE customer_id LIKE 'e%'", "--csv").stdout.splitlines()
    deletes = sum(1 for h in written.values() for x in h if x[1] is None)
    assert q[1] == f"600,{deletes}"


def test_a_postgres_online_store_is_shared_and_its_url_stays_secret(mlgw, tmp_path, postgres):
    stack = stack_file(tmp_path)
    password = POSTGRES.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    plan = mlgw.run("plan", stack).stdout
    assert "online.store" in plan and "(sensitive value)" in plan and password not in plan
    mlgw.run("apply", stack, "--auto-approve")
    mlgw.run("apply", stack, "--auto-approve", "--env", "other")
    a, b = client(mlgw, stack), boto3.client("sagemaker-featurestore-runtime", endpoint_url=mlgw.output(stack, "aws_endpoint_url", "other"),
                                             region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    a.put_record(FeatureGroupName="customers", Record=[{"FeatureName": "customer_id", "ValueAsString": "shared"},
                                                       {"FeatureName": "event_time", "ValueAsString": "1893456000"}])
    assert "Record" in b.get_record(FeatureGroupName="customers", RecordIdentifierValueAsString="shared")
    # The URL's password is nowhere: not in plans, state, logs, status or the environment's files.
    seen = [mlgw.run("plan", stack, "--json").stdout, mlgw.run("status", stack, "--json").stdout, mlgw.run("status", stack).stdout]
    for root, _, files in os.walk(mlgw.state_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                seen.append(f.read().decode("utf-8", "replace"))
    assert not [text[:200] for text in seen if password in text]
    # A database that cannot be reached is a located, password-free error at apply.
    bad = POSTGRES.replace(POSTGRES.rsplit(":", 1)[1].split("/")[0], "1")
    p = mlgw.run("apply", stack, "--auto-approve", "--env", "third", env={"MLGW_FEATURES_DB": bad}, check=False)
    assert p.returncode == 1 and "the PostgreSQL online store postgres://mlgw@127.0.0.1:1/mlgw failed" in p.stderr and password not in p.stderr + p.stdout


def test_pandas_and_duckdb_read_the_offline_store_as_documented(mlgw, tmp_path):
    """The one-liners of docs/kinds/feature-groups.md, as written there."""
    import duckdb  # scripts/test installs both
    import pandas as pd
    stack = stack_file(tmp_path)
    mlgw.run("apply", stack, "--auto-approve")
    c = client(mlgw, stack)
    c.put_record(FeatureGroupName="customers", Record=[{"FeatureName": "customer_id", "ValueAsString": "c0001"},
                                                       {"FeatureName": "event_time", "ValueAsString": "1893456000"},
                                                       {"FeatureName": "age", "ValueAsString": "39"}])
    mlgw.run("features", "query", stack, "SELECT 1")  # flushes the queue, as any reader of the files may ask
    folder = os.path.join(mlgw.state_dir, "features", "default", "data", "feature-store", "offline", "customers")
    df = pd.concat(pd.read_json(f, lines=True) for f in glob.glob(f"{folder}/**/*.jsonl", recursive=True))
    assert len(df) == 201 and {"customer_id", "age", "api_invocation_time", "write_time", "is_deleted"} <= set(df.columns)
    assert sorted(df[df.customer_id == "c0001"].age.tolist()) == [38, 39]
    rows = duckdb.sql(f"SELECT year, count(*) AS n, max(age) AS oldest FROM read_json_auto('{folder}/**/*.jsonl', hive_partitioning = true) "
                      "GROUP BY year ORDER BY year").fetchall()
    assert [(int(y), n) for y, n, _ in rows] == [(2026, 200), (2030, 1)] and rows[1][2] == 39
