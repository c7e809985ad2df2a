"""The built-in xgboost runtime's predictor against the xgboost package's inplace_predict on one
thread: a 100-tree, depth-6 model, a batch of 1,000 rows (20 features, 5% missing), median of 200
batches each, same process-free conditions (mlgw-bench calls the predictor directly).

python3 Benchmarks/xgboost_vs_python.py   (after swift build -c release --product mlgw-bench)
"""
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import xgboost as xgb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build", "release", "mlgw-bench")
REPEATS = 200

rng = np.random.default_rng(3)
x = rng.normal(size=(20000, 20))
y = (x[:, 0] + np.sin(x[:, 1]) * x[:, 2] - 0.5 * x[:, 3] > 0).astype(int)
x[rng.uniform(size=x.shape) < 0.05] = np.nan
booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "seed": 1, "nthread": 1},
                    xgb.DMatrix(x, label=y), num_boost_round=100)
batch = rng.normal(size=(1000, 20)).astype(np.float32)
batch[rng.uniform(size=batch.shape) < 0.05] = np.nan

with tempfile.TemporaryDirectory() as d:
    model = os.path.join(d, "model.json")
    booster.save_model(model)
    rows = os.path.join(d, "rows.csv")
    with open(rows, "w") as f:
        for r in batch:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n")
    booster = xgb.Booster(model_file=model)
    booster.set_param({"nthread": 1})
    expected = booster.inplace_predict(batch)
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        booster.inplace_predict(batch)
        times.append(time.perf_counter() - t)
    python = sorted(times)[REPEATS // 2]
    out = json.loads(subprocess.run([BENCH, "xgboost", model, rows, str(REPEATS)], capture_output=True, text=True, check=True).stdout)
    ours = out["median_seconds"]
    assert abs(out["checksum"] / REPEATS - expected[0]) < 1e-6
print(f"100 trees, depth 6, 1,000 rows: xgboost inplace_predict (1 thread) {python*1e3:.2f} ms, "
      f"mlgw xgboost runtime {ours*1e3:.2f} ms -> {python/ours:.2f}x (>= 1.0 meets the target)")
