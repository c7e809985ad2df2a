"""CloudFormation export: every stack in stacks/ exports to a template cfn-lint finds no error in;
what has no cloud twin is an error naming it (and nothing is written) or a warning; secrets stay
parameters; --package zips each function's code."""
import glob
import json
import os
import subprocess
import zipfile

from conftest import ROOT

STACKS = sorted(glob.glob(os.path.join(ROOT, "stacks", "*.yaml")) + [d for d in glob.glob(os.path.join(ROOT, "stacks", "*")) if os.path.isdir(d)])
SECRET = "an-api-key-value-of-thirty-chars"


def test_every_stack_exports_to_a_template_cfn_lint_finds_no_error_in(mlgw, tmp_path):
    assert len(STACKS) >= 8
    for stack in STACKS:
        name = os.path.basename(stack).removesuffix(".yaml")
        out = tmp_path / f"{name}.json"
        p = mlgw.run("export", stack, "--format", "cloudformation", "--out", out, env={"FRAUD_API_KEY": SECRET}, check=False)
        assert p.returncode == 0, f"{name}: {p.stderr}"
        template = json.loads(out.read_text())
        assert template["AWSTemplateFormatVersion"] == "2010-09-09" and template["Resources"]
        # Warnings are printed and kept in the template, never dropped silently.
        printed = [line.removeprefix("warning: ") for line in p.stderr.splitlines() if line.startswith("warning: ")]
        assert printed == template["Metadata"]["mlgw-deploy"]["warnings"], name
        lint = subprocess.run(["cfn-lint", "--format", "parseable", str(out)], capture_output=True, text=True)
        # cfn-lint's exit status is a bit set: 2 means errors (4 warnings, 8 informational).
        assert lint.returncode & 2 == 0, f"{name}:\n{lint.stdout}{lint.stderr}"
        assert SECRET not in out.read_text()


def test_the_enterprise_stack_maps_each_kind_to_its_cloud_twin(mlgw, tmp_path):
    out = tmp_path / "enterprise.json"
    p = mlgw.run("export", os.path.join(ROOT, "stacks", "enterprise"), "--out", out)
    t = json.loads(out.read_text())
    types = {r["Type"] for r in t["Resources"].values()}
    assert {"AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint", "AWS::SageMaker::FeatureGroup",
            "AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Method", "AWS::Events::Rule", "AWS::Scheduler::Schedule",
            "AWS::SageMaker::DataQualityJobDefinition", "AWS::SageMaker::ModelQualityJobDefinition", "AWS::SageMaker::MonitoringSchedule",
            "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::ApplicationAutoScaling::ScalingPolicy", "AWS::CloudWatch::Alarm",
            "AWS::IAM::Role"} <= types
    r = t["Resources"]
    config = r["EndpointConfigFraud"]["Properties"]
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in config["ProductionVariants"]] == [("current", 80), ("challenger", 20)]
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 100
    target = r["ScalableTargetFraudCurrent"]["Properties"]
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount" and (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    assert [a["ScheduledActionName"] for a in target["ScheduledActions"]] == ["evening", "morning"]
    assert target["ScheduledActions"][0]["Timezone"] == "Europe/Berlin"
    silence = next(v["Properties"] for v in r.values() if v["Type"] == "AWS::CloudWatch::Alarm" and v["Properties"]["AlarmName"] == "fraud-current-scale-in-on-silence")
    assert [m.get("Expression") for m in silence["Metrics"]] == [None, "FILL(m1, 0)"]
    # The keep-warm schedule calls the endpoint through EventBridge Scheduler's SDK target.
    warm = r["RuleKeepWarm"]["Properties"]
    assert warm["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:sagemakerruntime:invokeEndpoint"
    assert "enriches requests from feature group 'customers'" in p.stderr


def test_what_has_no_cloud_twin_is_an_error_naming_it_and_nothing_is_written(mlgw, tmp_path):
    stack = tmp_path / "local.yaml"
    stack.write_text(f"""
stack: local-only
models:
  m: {{runtime: linear, artifact: {os.path.join(ROOT, 'examples', 'models', 'churn-v1.json')}}}
endpoints:
  e: {{variants: {{a: {{model: m}}}}}}
event_rules:
  hook:
    pattern: {{source: [app]}}
    targets:
      - {{command: [python3, notify.py]}}
      - {{url: "http://127.0.0.1:9/hook"}}
      - {{endpoint: e, input: "1,2,3"}}
""")
    out = tmp_path / "t.json"
    p = mlgw.run("export", stack, "--out", out, check=False)
    assert p.returncode == 1
    errors = [line for line in p.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, p.stderr
    assert any("event_rules.hook: target" in e and "runs a command on this machine (python3 notify.py)" in e for e in errors)
    assert any("a URL on this machine" in e for e in errors)
    assert any("EventBridge rules cannot invoke a SageMaker endpoint" in e for e in errors)
    assert "no template was written" in p.stderr and not out.exists()


def test_package_zips_each_functions_code_and_makes_it_the_default_key(mlgw, tmp_path):
    code = tmp_path / "code"
    (code / "lib").mkdir(parents=True)
    (code / "app.py").write_text("from lib import util\n\ndef handler(event, context):\n    return util.answer()\n")
    (code / "lib" / "util.py").write_text("def answer():\n    return 42\n")
    (code / "lib" / "__pycache__").mkdir()
    (code / "lib" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"junk")
    stack = tmp_path / "fn.yaml"
    stack.write_text(f"stack: fn\nfunctions:\n  answer: {{runtime: python3, handler: app.handler, code: {code}}}\n")
    out, pkg = tmp_path / "t.json", tmp_path / "dist"
    mlgw.run("export", stack, "--out", out, "--package", pkg)
    with zipfile.ZipFile(pkg / "answer.zip") as z:
        assert z.testzip() is None
        assert sorted(z.namelist()) == ["app.py", "lib/util.py"]
        assert z.read("lib/util.py") == b"def answer():\n    return 42\n"
    t = json.loads(out.read_text())
    assert t["Parameters"]["FunctionCodeAnswer"]["Default"] == "functions/answer.zip"
    assert t["Resources"]["FunctionAnswer"]["Properties"]["Code"] == {"S3Bucket": {"Ref": "FunctionCodeBucket"}, "S3Key": {"Ref": "FunctionCodeAnswer"}}
    # The same code gives the same bytes.
    first = (pkg / "answer.zip").read_bytes()
    mlgw.run("export", stack, "--out", out, "--package", pkg)
    assert (pkg / "answer.zip").read_bytes() == first
