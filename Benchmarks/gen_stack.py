"""Generates a benchmark stack of N resources: models, and one endpoint per 100 models whose single
variant serves one of them (so the graph has edges), plus the same count of Terraform
`terraform_data` resources for the side-by-side plan.

python3 Benchmarks/gen_stack.py N OUT_DIR
"""
import json
import os
import sys

n = int(sys.argv[1])
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
endpoints = max(1, n // 100)
models = n - endpoints
artifact = os.path.join(out, "model.json")
with open(artifact, "w") as f:
    json.dump({"objective": "logistic", "coefficients": [0.1, 0.2, 0.3], "intercept": 0.0}, f)
with open(os.path.join(out, "stack.yaml"), "w") as f:
    f.write(f"stack: bench-{n}\nmodels:\n")
    for i in range(models):
        f.write(f"  m{i:05d}: {{runtime: linear, artifact: model.json}}\n")
    f.write("endpoints:\n")
    for i in range(endpoints):
        f.write(f"  e{i:05d}: {{variants: {{a: {{model: m{i * 97 % models:05d}, weight: 1, instances: 1}}}}}}\n")
tf = os.path.join(out, "terraform")
os.makedirs(tf, exist_ok=True)
with open(os.path.join(tf, "main.tf"), "w") as f:
    for i in range(n):
        f.write(f'resource "terraform_data" "r{i:05d}" {{\n  input = "value-{i}"\n}}\n')
print(f"{out}: {models} models, {endpoints} endpoints; terraform: {n} terraform_data")
