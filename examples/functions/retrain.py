"""The enterprise stack's retraining step: run by the event rule `retrain-on-drift` when the drift
monitor's run found violations. It reads the endpoint's captured inputs in the run's window (the
event's detail says which and where), joins them with their labels (SageMaker's ground-truth merge
format: JSON lines keyed by the captured inferenceId or eventId, under GROUND_TRUTH), fits a
logistic regression on that recent data with numpy, and writes it over MODEL_ARTIFACT - the
current variant's artifact - so that the next plan shows the variant's blue/green update.
Without enough labelled rows it changes nothing and says so."""
import glob
import json
import os

import numpy as np

MIN_ROWS = 20


def iso_seconds(text):
    import calendar
    import time
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def captured(folder, start, end):
    """{id: [floats]} of the captured CSV inputs in [start, end), by inferenceId and eventId."""
    rows = {}
    for path in glob.glob(os.path.join(folder, "*", "*", "*", "*", "*", "*.jsonl")):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                    meta = record["eventMetadata"]
                    if not start <= iso_seconds(meta["inferenceTime"]) < end:
                        continue
                    data = record["captureData"]["endpointInput"]
                    if data.get("encoding") != "CSV":
                        continue
                    values = [float(x) for x in data["data"].strip().split(",")]
                except (KeyError, ValueError, json.JSONDecodeError):
                    continue
                for key in (meta.get("inferenceId"), meta.get("eventId")):
                    if key:
                        rows[key] = values
    return rows


def labels(folder):
    out = {}
    for path in glob.glob(os.path.join(folder, "**", "*.jsonl"), recursive=True):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                    out[record["eventMetadata"]["eventId"]] = float(record["groundTruthData"]["data"])
                except (KeyError, ValueError, json.JSONDecodeError):
                    continue
    return out


def fit(x, y, l2=1e-3, iterations=50):
    """Logistic regression by Newton's method on standardised inputs; coefficients on the raw scale."""
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / sd])
    w = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + l2 * np.r_[0, w[1:]]
        hessian = (z * (p * (1 - p))[:, None]).T @ z + l2 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    coefficients = w[1:] / sd
    intercept = w[0] - float(np.sum(w[1:] * mean / sd))
    return coefficients, intercept


def handler(event, context):
    detail = event.get("detail", {})
    start, end = iso_seconds(detail["windowStart"]), iso_seconds(detail["windowEnd"])
    drifted = sorted({v["feature_name"] for v in detail.get("violations", []) if v.get("constraint_check_type") == "baseline_drift_check"})
    inputs = captured(detail["capture"], start, end)
    truth = labels(os.environ["GROUND_TRUTH"]) if os.path.isdir(os.environ.get("GROUND_TRUTH", "")) else {}
    keys = [k for k in inputs if k in truth]
    if len(keys) < MIN_ROWS:
        print(json.dumps({"retrained": False, "reason": f"{len(keys)} labelled rows in the window, fewer than {MIN_ROWS}", "drifted": drifted}))
        return {"retrained": False, "labelled": len(keys)}
    widths = {len(inputs[k]) for k in keys}
    artifact_path = os.environ["MODEL_ARTIFACT"]
    with open(artifact_path) as f:
        current = json.load(f)
    width = len(current["coefficients"])
    keys = [k for k in keys if len(inputs[k]) == width]
    x = np.array([inputs[k] for k in keys])
    y = np.array([truth[k] for k in keys])
    coefficients, intercept = fit(x, y)
    model = dict(current, coefficients=[round(float(c), 10) for c in coefficients], intercept=round(float(intercept), 10),
                 trained_on={"rows": len(keys), "window": [detail["windowStart"], detail["windowEnd"]], "monitor": detail.get("monitor"),
                             "drifted": drifted})
    temp = artifact_path + ".tmp"
    with open(temp, "w") as f:
        json.dump(model, f, indent=2)
        f.write("\n")
    os.replace(temp, artifact_path)
    print(json.dumps({"retrained": True, "rows": len(keys), "widths": sorted(widths), "drifted": drifted, "artifact": artifact_path}))
    return {"retrained": True, "rows": len(keys)}
