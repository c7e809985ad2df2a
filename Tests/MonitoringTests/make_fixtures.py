#!/usr/bin/env python3
"""Writes Fixtures/scipy.json: samples and the statistics scipy computes on them.

The monitor's drift statistics are ports of these functions; MonitoringTests compares them
value by value (distances to 1e-9 absolute, p-values to 1e-6 relative).
Run: python3 Tests/MonitoringTests/make_fixtures.py
"""
import json
import os

import numpy as np
from scipy import stats
from scipy.spatial import distance

rng = np.random.default_rng(20261203)


def rounded(xs, digits):
    return [float(round(x, digits)) for x in xs]


cases = []
# Sizes cover equal sizes, unequal sizes, the exact path's limit and the asymptotic path.
sizes = [(5, 5), (8, 13), (20, 20), (37, 50), (100, 100), (140, 160), (300, 700), (1000, 1000),
         (999, 1001), (2500, 4000), (10000, 10000), (10000, 3), (12000, 9000), (20000, 500), (30000, 25000)]
for (n1, n2) in sizes:
    for shift, scale, digits in [(0.0, 1.0, 6), (0.1, 1.0, 6), (0.3, 1.5, 2), (0.0, 1.0, 1)]:
        a = rounded(rng.normal(0, 1, n1), digits)
        b = rounded(rng.normal(shift, scale, n2), digits)
        ks = stats.ks_2samp(a, b)
        case = {"a": a, "b": b, "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue),
                "wasserstein": float(stats.wasserstein_distance(a, b))}
        if n1 + n2 > 20000:
            # Keep the fixture small: only the largest case per size carries its samples in full.
            if shift != 0.1:
                continue
        cases.append(case)

categorical = []
for k in [2, 3, 5, 12, 40]:
    for n1, n2 in [(50, 60), (500, 300), (5000, 5000)]:
        p = rng.dirichlet(np.ones(k))
        q = 0.7 * p + 0.3 * rng.dirichlet(np.ones(k))
        ref = rng.multinomial(n1, p).astype(float).tolist()
        cur = rng.multinomial(n2, q).astype(float).tolist()
        if k > 3:
            ref[0] = 0.0
            cur[0] = 0.0  # a category present in neither row: scipy refuses it, the port leaves it out
        kept = [i for i in range(k) if ref[i] + cur[i] > 0]
        chi = stats.chi2_contingency([[ref[i] for i in kept], [cur[i] for i in kept]])
        entry = {"reference": ref, "current": cur,
                 "jensenshannon": float(distance.jensenshannon(ref, cur)),
                 "chi2_statistic": float(chi[0]), "chi2_pvalue": float(chi[1]), "chi2_dof": int(chi[2])}
        categorical.append(entry)

histograms = []
for n in [10, 1000]:
    values = rng.normal(3, 2, n)
    low, high = float(values.min()) - 0.5, float(values.max()) + 0.25
    for bins in [10, 30]:
        edges = np.histogram_bin_edges(values, bins=bins, range=(low, high))
        counts = np.histogram(values, bins=edges)[0]
        histograms.append({"values": values.tolist(), "low": low, "high": high, "bins": bins,
                           "edges": edges.tolist(), "counts": counts.astype(float).tolist()})

chi2_sf = [{"x": x, "k": k, "sf": float(stats.chi2.sf(x, k))}
           for k in [1, 2, 3, 7, 39, 120] for x in [0.01, 0.5, 1.0, 3.84, 10.0, 50.0, 200.0]]

# Evidently's two-proportion Z-test (evidently.legacy.calculations.stattests.z_stattest), on counts
# of two values: the indicator is "not the first value".
ztest = []
for n1, n2, p, q in [(50, 60, 0.3, 0.35), (500, 400, 0.5, 0.6), (1000, 1000, 0.1, 0.1), (900, 30, 0.2, 0.9), (20, 20, 0.5, 0.45)]:
    a = int(rng.binomial(n1, p))
    b = int(rng.binomial(n2, q))
    p1, p2 = a / n1, b / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    ztest.append({"reference": [float(n1 - a), float(a)], "current": [float(n2 - b), float(b)], "p": float(2 * (1 - stats.norm.cdf(np.abs(z))))})

out = {"ks": cases, "categorical": categorical, "histograms": histograms, "chi2_sf": chi2_sf, "ztest": ztest}
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "Fixtures", "scipy.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(len(cases), "ks cases,", len(categorical), "categorical,", len(histograms), "histograms")
