"""Trains the fraud models of stacks/fraud-gateway, from examples/data/transactions.csv.

Run: python3 examples/models/make_fraud_models.py  (numpy only). Writes fraud-v1.json (logistic
regression on all rows) and fraud-v2.json (the challenger: stronger regularisation), in the built-in
'linear' runtime's format. Features, in CSV order: amount, hour, merchant_risk, txn_count_24h.
"""
import csv
import json
import os

import numpy as np

from make_models import fit_logistic

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "transactions.csv")
NAMES = ["amount", "hour", "merchant_risk", "txn_count_24h"]


def make_data(path, n=600, seed=11):
    rng = np.random.default_rng(seed)
    amount = rng.gamma(2.0, 60.0, n).round(2)
    hour = rng.integers(0, 24, n)
    risk = rng.uniform(0, 1, n).round(3)
    count = rng.poisson(3, n)
    night = ((hour < 6) | (hour > 22)).astype(float)
    z = -4.0 + 0.008 * amount + 1.2 * night + 2.5 * risk + 0.25 * count
    fraud = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(NAMES + ["fraud"])
        for row in zip(amount, hour, risk, count, fraud):
            w.writerow(row)


def main():
    if not os.path.exists(DATA):
        make_data(DATA)
    rows = np.loadtxt(DATA, delimiter=",", skiprows=1)
    x, y = rows[:, :4], rows[:, 4]
    for name, l2 in [("fraud-v1", 0.0), ("fraud-v2", 0.3)]:
        w, b = fit_logistic(x, y, l2)
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump({"objective": "logistic", "coefficients": [round(v, 8) for v in w],
                       "intercept": round(float(b), 8), "feature_names": NAMES}, f, indent=2)
            f.write("\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
