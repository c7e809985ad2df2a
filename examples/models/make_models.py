"""Trains the small models the example stacks serve, from examples/data/churn.csv.

Run: python3 examples/models/make_models.py  (numpy only). Writes churn-v1.json (logistic
regression on all rows) and churn-v2.json (the same, with stronger regularisation), in the
built-in 'linear' runtime's format: {"objective", "coefficients", "intercept", "feature_names"}.
"""
import csv
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "churn.csv")


def make_data(path, n=400, seed=7):
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n)
    monthly = rng.uniform(20, 120, n).round(2)
    tickets = rng.poisson(1.5, n)
    z = -1.0 - 0.05 * tenure + 0.02 * monthly + 0.6 * tickets
    churn = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tenure_months", "monthly_charges", "support_tickets", "churned"])
        for row in zip(tenure, monthly, tickets, churn):
            w.writerow(row)


def fit_logistic(x, y, l2, steps=4000, lr=0.1):
    mean, std = x.mean(0), x.std(0)
    xs = (x - mean) / std
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xs @ w + b)))
        w -= lr * (xs.T @ (p - y) / len(y) + l2 * w)
        b -= lr * (p - y).mean()
    # Fold the standardisation into the coefficients, so the model takes raw features.
    return w / std, b - (w * mean / std).sum()


def main():
    if not os.path.exists(DATA):
        make_data(DATA)
    rows = np.loadtxt(DATA, delimiter=",", skiprows=1)
    x, y = rows[:, :3], rows[:, 3]
    names = ["tenure_months", "monthly_charges", "support_tickets"]
    for name, l2 in [("churn-v1", 0.0), ("churn-v2", 0.5)]:
        w, b = fit_logistic(x, y, l2)
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump({"objective": "logistic", "coefficients": [round(v, 8) for v in w],
                       "intercept": round(float(b), 8), "feature_names": names}, f, indent=2)
            f.write("\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
