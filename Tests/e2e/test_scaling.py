"""Scaling policies end to end: a variant scales out under a bounded load on loopback and back in
on silence (the clock moved), with no failed request throughout; a function's provisioned
concurrency follows its utilisation; scheduled actions fire at the right times in a time zone
across a daylight-saving change; the plan shows the managed count and hands it back when the
policy goes; activities are recorded in Application Auto Scaling's words and are events."""
import datetime
import json
import os
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

from conftest import ROOT, wait_for

MODEL = os.path.join(ROOT, "examples", "models", "enterprise-v1.json")
ROW = b"120.5,3,0.4,2,35,900"


def stack(tmp_path, policy, extra=""):
    path = tmp_path / "scaling.yaml"
    path.write_text(f"""
stack: scaling
models:
  m: {{runtime: linear, artifact: {MODEL}}}
endpoints:
  e:
    variants:
      a: {{model: m, weight: 1}}
{extra}
scaling_policies:
  p:
{policy}
""")
    return str(path)


PEAKS_AND_SILENCE = """    target: endpoints.e.variants.a
    min: 1
    max: 3
    target_tracking:
      - {name: invocations, metric: SageMakerVariantInvocationsPerInstance, target: 100, scale_out_cooldown: 60s}
    step_scaling:
      - name: silence
        alarm: {metric: Invocations, period: 60s, evaluation_periods: 5, threshold: 1, comparison: LessThanThreshold, missing_data: {fill: 0}}
        steps: [{upper: 0, adjustment: -1}]
        cooldown: 120s
"""


class Load:
    """A bounded load generator: `threads` callers in a loop, every answer checked."""

    def __init__(self, url, threads=2):
        self.client = boto3.client("sagemaker-runtime", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t",
                                   aws_secret_access_key="t", config=Config(retries={"max_attempts": 1}, max_pool_connections=8))
        self.stop = threading.Event()
        self.ok = 0
        self.failed = []
        self.lock = threading.Lock()
        self.workers = [threading.Thread(target=self.loop, daemon=True) for _ in range(threads)]

    def loop(self):
        while not self.stop.is_set():
            try:
                r = self.client.invoke_endpoint(EndpointName="e", ContentType="text/csv", Body=ROW)
                r["Body"].read()
                with self.lock:
                    self.ok += 1
            except Exception as e:  # every failure is kept, and fails the test
                with self.lock:
                    self.failed.append(repr(e))
            time.sleep(0.002)

    def __enter__(self):
        for w in self.workers:
            w.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for w in self.workers:
            w.join(10)


def policy_status(mlgw, path):
    return mlgw.status(path)["host"]["scalingPolicies"][0]


def activities(mlgw, path):
    out = mlgw.run("scaling", "activities", path, "--json").stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_variant_scales_out_under_load_and_back_in_on_silence_without_a_failed_request(mlgw, tmp_path):
    path = stack(tmp_path, PEAKS_AND_SILENCE)
    mlgw.run("apply", path, "--auto-approve")
    url = mlgw.output(path, "aws_endpoint_url")
    assert policy_status(mlgw, path)["desiredCapacity"] == 1
    with Load(url) as load:
        # Three minutes of the environment's clock, each with a few hundred requests on one
        # instance (target: 100 a minute per instance): the third datapoint above the target
        # scales out, proportionally, to the maximum.
        for _ in range(3):
            start = load.ok
            wait_for(lambda: load.ok - start >= 400, timeout=30, what="400 requests")
            mlgw.run("clock", path, "advance", "60s")
        wait_for(lambda: policy_status(mlgw, path)["runningCapacity"] == 3, timeout=30, what="three healthy instances")
        status = policy_status(mlgw, path)
        assert status["desiredCapacity"] == 3
        assert [i[2] for i in mlgw.instances(path)["a"]] == ["healthy"] * 3
        out = wait_for(lambda: activities(mlgw, path), what="an activity")
        first = out[0]
        assert (first["fromCapacity"], first["toCapacity"], first["statusCode"]) == (1, 3, "Successful")
        assert first["description"] == "Setting desired instance count to 3."
        assert "a monitor alarm TargetTracking-endpoint/e/variant/a-AlarmHigh-" in first["cause"]
        assert first["cause"].endswith("in state ALARM triggered policy invocations changing the desired capacity from 1 to 3.")
        # The plan does not fight the autoscaler: the count is managed, neither drift nor a change.
        assert "No changes." in mlgw.run("plan", path).stdout
        # The traffic keeps flowing while instances are added.
        time.sleep(0.5)
    assert load.failed == [], load.failed[:3]
    assert load.ok > 1200

    # Silence: five empty minutes (filled as zero) alarm; each evaluation in ALARM removes one
    # instance, at most once per two-minute cooldown, down to the minimum. A trickle of traffic
    # keeps running (it lands before the clock jump) and never fails while instances drain.
    with Load(url, threads=1) as trickle:
        time.sleep(0.3)
        mlgw.run("clock", path, "advance", "20m")
        wait_for(lambda: policy_status(mlgw, path)["runningCapacity"] == 1 and len(mlgw.instances(path)["a"]) == 1,
                 timeout=30, what="one instance left")
        time.sleep(0.3)
    assert trickle.failed == [], trickle.failed[:3]
    downs = [a for a in activities(mlgw, path) if a["toCapacity"] < a["fromCapacity"]]
    assert [(a["fromCapacity"], a["toCapacity"]) for a in downs] == [(3, 2), (2, 1)]
    assert all("monitor alarm p-silence in state ALARM triggered policy silence" in a["cause"] for a in downs)
    assert downs[1]["startTime"] - downs[0]["startTime"] >= 120
    alarms = {a["name"]: a["state"] for a in policy_status(mlgw, path)["alarms"]}
    assert alarms["p-silence"] == "ALARM"
    # Each activity is an event on the bus, as Application Auto Scaling sends it.
    tail = mlgw.run("events", "tail", path, "--from-start", "--pattern", '{"source": ["aws.application-autoscaling"]}',
                    "--count", "3", "--timeout", "10").stdout
    events = [json.loads(line) for line in tail.splitlines()]
    assert [e["detail-type"] for e in events] == ["Application Auto Scaling Scaling Activity State Change"] * 3
    assert [(e["detail"]["fromCapacity"], e["detail"]["toCapacity"], e["detail"]["statusCode"]) for e in events] == [
        (1, 3, "Successful"), (3, 2, "Successful"), (2, 1, "Successful")]
    assert events[0]["detail"]["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert events[0]["resources"] == ["arn:aws:autoscaling:us-east-1:000000000000:scalableTarget/endpoint/e/variant/a"]


def test_the_plan_shows_the_managed_count_and_hands_it_back_when_the_policy_goes(mlgw, tmp_path):
    path = stack(tmp_path, """    target: endpoints.e.variants.a
    min: 2
    max: 4
    scheduled_actions:
      - {schedule: "rate(1 day)", max: 4}
""")
    mlgw.run("apply", path, "--auto-approve")
    # Registering the target brought the count inside the bounds: two instances, before the
    # apply returned.
    assert [i[2] for i in mlgw.instances(path)["a"]] == ["healthy", "healthy"]
    assert activities(mlgw, path)[0]["cause"].endswith("a minimum capacity was set to 2 changing the desired capacity from 1 to 2.")
    text = open(path).read()
    with open(path, "w") as f:
        f.write(text.replace("a: {model: m, weight: 1}", "a: {model: m, weight: 2}"))
    plan = mlgw.run("plan", path).stdout
    assert "~ variants.a.weight" in plan
    assert "# variants.a.instances: 2..4, managed by scaling_policies.p, now 2" in plan
    # Without the policy the count goes back to the stack's (1), and the plan says why.
    with open(path, "w") as f:
        f.write(text.split("scaling_policies:")[0])
    plan = mlgw.run("plan", path).stdout
    assert "variants.a.instances = 2 -> 1  # no longer managed by scaling_policies.p: back to the stack's value" in plan
    assert "has drifted" not in plan
    mlgw.run("apply", path, "--auto-approve")
    wait_for(lambda: len(mlgw.instances(path)["a"]) == 1, timeout=20, what="one instance")
    assert "No changes." in mlgw.run("plan", path).stdout


SLEEPY = '''
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0.8))
    return {"ok": True}
'''


def test_a_functions_provisioned_concurrency_follows_its_utilisation(mlgw, tmp_path):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(SLEEPY)
    path = stack(tmp_path, """    target: functions.f
    min: 1
    max: 4
    target_tracking:
      - {name: utilization, metric: LambdaProvisionedConcurrencyUtilization, target: 0.5, scale_out_cooldown: 0s, scale_in_cooldown: 0s}
""", extra=f"""functions:
  f: {{runtime: python3, handler: app.handler, code: {tmp_path / 'fn'}, timeout: 10s, provisioned_concurrency: 1, reserved_concurrency: 6}}
""")
    mlgw.run("apply", path, "--auto-approve")
    url = mlgw.output(path, "aws_endpoint_url")
    lam = boto3.client("lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t",
                       config=Config(retries={"max_attempts": 1}, read_timeout=30, max_pool_connections=8))
    stop = threading.Event()
    failures = []

    def caller():
        while not stop.is_set():
            r = lam.invoke(FunctionName="f", Payload=b'{"sleep": 0.8}')
            if r.get("FunctionError") or r["StatusCode"] != 200:
                failures.append(r["Payload"].read())

    callers = [threading.Thread(target=caller, daemon=True) for _ in range(3)]
    for c in callers:
        c.start()
    try:
        # Busy workers are sampled each second; each minute's peak is its datapoint. Three
        # minutes at full use of one provisioned worker (target 0.5) double it; then more.
        for _ in range(3):
            time.sleep(2.5)
            mlgw.run("clock", path, "advance", "60s")
        wait_for(lambda: policy_status(mlgw, path)["desiredCapacity"] >= 2, timeout=20, what="a scale-out")
        status = wait_for(lambda: (s := policy_status(mlgw, path))["runningCapacity"] == s["desiredCapacity"] and s, timeout=20,
                          what="warm provisioned workers")
        assert status["desiredCapacity"] >= 2
        fn = next(f for f in mlgw.status(path)["host"]["functions"] if f["name"] == "f")
        assert fn["configuration"]["provisionedConcurrency"] == status["desiredCapacity"]
        peak = status["desiredCapacity"]
    finally:
        stop.set()
        for c in callers:
            c.join(15)
    assert failures == []
    # Idle for fifteen minutes of datapoints (each minute sampled): scale in to the minimum.
    for _ in range(16):
        mlgw.run("clock", path, "advance", "60s")
        time.sleep(0.05)
    wait_for(lambda: policy_status(mlgw, path)["desiredCapacity"] == 1, timeout=20, what="a scale-in")
    out = activities(mlgw, path)
    assert out[0]["description"].startswith("Setting desired provisioned concurrency to ")
    assert out[0]["resourceId"] == "function:f:$LATEST"
    assert (out[-1]["fromCapacity"], out[-1]["toCapacity"]) == (peak, 1)


def test_scheduled_actions_fire_in_their_time_zone_across_a_daylight_saving_change(mlgw, tmp_path):
    path = stack(tmp_path, """    target: endpoints.e.variants.a
    min: 2
    max: 3
    scheduled_actions:
      - {name: evening, schedule: "cron(0 20 * * ? *)", timezone: Europe/Berlin, min: 1, max: 1}
      - {name: morning, schedule: "cron(0 7 * * ? *)", timezone: Europe/Berlin, min: 2, max: 3}
""")
    mlgw.run("apply", path, "--auto-approve")
    assert len(mlgw.instances(path)["a"]) == 2
    # Move to the morning of the Saturday before the next change to summer time in Europe.
    now = mlgw.run("clock", path).stdout.split()[2]
    current = datetime.datetime.fromisoformat(now.replace("Z", "+00:00"))
    year = current.year if current < datetime.datetime(current.year, 3, 20, tzinfo=datetime.timezone.utc) else current.year + 1
    march31 = datetime.datetime(year, 3, 31, tzinfo=datetime.timezone.utc)
    change = march31 - datetime.timedelta(days=(march31.weekday() + 1) % 7)   # last Sunday of March
    saturday = change - datetime.timedelta(days=1)
    mlgw.run("clock", path, "advance", f"{int((saturday.replace(hour=8) - current).total_seconds())}s", timeout=300)
    wait_for(lambda: len(mlgw.instances(path)["a"]) == 2, timeout=30, what="two instances in the morning")
    before = len(activities(mlgw, path))
    mlgw.run("clock", path, "advance", "2d")
    wait_for(lambda: len(mlgw.instances(path)["a"]) == 2 and len(activities(mlgw, path)) >= before + 4, timeout=30, what="the weekend's actions")
    fired = [a for a in activities(mlgw, path)[before:] if "scheduled action" in a["cause"]]
    when = [(a["policy"], datetime.datetime.fromtimestamp(a["startTime"], datetime.timezone.utc).strftime("%m-%dT%H:%M"), a["toCapacity"])
            for a in fired]
    day = lambda d: d.strftime("%m-%d")
    # 20:00 in Berlin is 19:00 UTC in winter time and 18:00 UTC in summer time; 07:00 is 06:00 and 05:00.
    assert when == [("evening", f"{day(saturday)}T19:00", 1), ("morning", f"{day(change)}T05:00", 2),
                    ("evening", f"{day(change)}T18:00", 1), ("morning", f"{day(change + datetime.timedelta(days=1))}T05:00", 2)]
    assert fired[0]["cause"].endswith("a scheduled action name evening was triggered changing the desired capacity from 2 to 1.")


def test_bad_scaling_policies_are_validate_errors_with_locations(mlgw, tmp_path):
    path = stack(tmp_path, """    target: endpoints.e.variants.b
    min: 1
    max: 3
    step_scaling:
      - alarm: {metric: Invocations, threshold: 1, comparison: LessThanThreshold}
        steps: [{upper: 0, adjustment: -1}, {upper: -5, adjustment: -2}]
""")
    p = mlgw.run("validate", path, check=False)
    assert p.returncode == 1
    assert "scaling.yaml:17:16: error: the steps of step scaling policy 1 of scaling policy 'p' are not valid" in p.stderr and "only one step may leave out its lower bound" in p.stderr, p.stderr
