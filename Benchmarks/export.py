"""Export benchmark (results go to docs/benchmarks.md): `mlgw-deploy export STACK --format
cloudformation` of a generated 1,000-resource stack of every kind that maps to many CloudFormation
resources (xgboost models, endpoints with data capture, functions with provisioned concurrency,
feature groups, event rules, scaling policies with target tracking, step scaling and scheduled
actions), timed end to end as a user runs it: process start, reading and validating the stack,
the export, writing the template. Median of 10 runs; the target is under 0.5 s.

python3 Benchmarks/export.py [--resources 1000] [--runs 10]
Build first: swift build -c release --product mlgw-deploy
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(ROOT, ".build", "release", "mlgw-deploy")


def generate(folder, n):
    per = n // 6
    shutil.copy(os.path.join(ROOT, "examples", "models", "churn-xgb.json"), os.path.join(folder, "model.json"))
    os.makedirs(os.path.join(folder, "code"), exist_ok=True)
    with open(os.path.join(folder, "code", "app.py"), "w") as f:
        f.write("def handler(event, context):\n    return event\n")
    lines = [f"stack: export-{n}", "models:"]
    lines += [f"  m{i}: {{runtime: xgboost, artifact: model.json}}" for i in range(per)]
    lines.append("endpoints:")
    lines += [f"  e{i}: {{variants: {{a: {{model: m{i}, weight: 1}}}}, data_capture: {{sample_percent: 10, capture: [input]}}}}" for i in range(per)]
    lines.append("functions:")
    lines += [f"  f{i}: {{runtime: python3, handler: app.handler, code: code, provisioned_concurrency: 1, environment: {{ENDPOINT: \"${{endpoints.e{i}.name}}\"}}}}"
              for i in range(per)]
    lines.append("feature_groups:")
    lines += [f"  g{i}: {{record_identifier: id, event_time: at, features: {{id: String, at: Fractional, x: Integral}}, online: {{ttl: 7d}}}}" for i in range(per)]
    lines.append("event_rules:")
    lines += [f"  r{i}: {{pattern: {{source: [app], detail-type: [t{i}]}}, target: {{function: f{i}}}}}" for i in range(per)]
    lines.append("scaling_policies:")
    rest = n - 5 * per
    for i in range(rest):
        lines += [f"  p{i}:", f"    target: endpoints.e{i % per}.variants.a" if i < per else f"    target: functions.f{i % per}", "    min: 1", "    max: 4"]
        if i < per:
            lines += ["    target_tracking: [{metric: SageMakerVariantInvocationsPerInstance, target: 600}]",
                      "    step_scaling:",
                      "      - alarm: {metric: Invocations, evaluation_periods: 15, threshold: 2, comparison: LessThanThreshold, missing_data: {fill: 0}}",
                      "        steps: [{upper: 0, adjustment: -1}]",
                      '    scheduled_actions: [{schedule: "cron(0 20 * * ? *)", timezone: Europe/Berlin, min: 1, max: 1}]']
        else:
            lines += ["    target_tracking: [{metric: LambdaProvisionedConcurrencyUtilization, target: 0.7}]"]
    with open(os.path.join(folder, "stack.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return os.path.join(folder, "stack.yaml")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="mlgw-export-bench-")
    stack = generate(folder, args.resources)
    out = os.path.join(folder, "template.json")
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        p = subprocess.run([BIN, "export", stack, "--out", out], capture_output=True, text=True, cwd=folder)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            sys.exit("\n".join(p.stderr.splitlines()[-6:]))
    template = json.load(open(out))
    print(f"{args.resources} stack resources -> {len(template['Resources'])} CloudFormation resources, "
          f"{os.path.getsize(out) / 1e6:.1f} MB; export median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over {args.runs} runs; target < 500 ms")
    print(p.stderr.strip().splitlines()[-1])
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
