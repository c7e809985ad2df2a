"""Per-variant metrics, in status and in Prometheus text on the environment's metrics URL."""
import re
import urllib.request

import pytest

QUICKSTART = "stacks/quickstart.yaml"


def scrape(url):
    text = urllib.request.urlopen(url).read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-z_0-9]+)(\{[^}]*\})? (\S+)', line)
        assert m, f"not Prometheus text: {line!r}"
        samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return text, samples


def test_counters_latencies_and_instances_per_variant(mlgw):
    mlgw.run("apply", QUICKSTART, "--auto-approve")
    c = mlgw.client(QUICKSTART)
    for _ in range(40):
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv", TargetVariant="current")
    for _ in range(3):
        with pytest.raises(c.exceptions.ModelError):
            c.invoke_endpoint(EndpointName="churn", Body=b"1,2", ContentType="text/csv", TargetVariant="challenger")
    with pytest.raises(c.exceptions.ValidationError):
        c.invoke_endpoint(EndpointName="churn", Body=b"1,2,3", ContentType="text/csv", TargetVariant="nope")

    url = mlgw.output(QUICKSTART, "metrics_url")
    text, s = scrape(url)
    cur, chal = '{endpoint="churn",variant="current"}', '{endpoint="churn",variant="challenger"}'
    assert s[("mlgw_endpoint_invocations_total", cur)] == 40
    assert s[("mlgw_endpoint_invocations_total", chal)] == 3
    assert s[("mlgw_endpoint_model_errors_total", chal)] == 3
    assert s[("mlgw_endpoint_invocation_4xx_errors_total", chal)] == 3
    assert s[("mlgw_endpoint_invocation_4xx_errors_total", cur)] == 0
    assert s[("mlgw_endpoint_invocation_5xx_errors_total", cur)] == 0
    assert s[("mlgw_endpoint_refused_requests_total", '{endpoint="churn"}')] == 1
    assert s[("mlgw_endpoint_model_latency_seconds_count", cur)] == 40
    assert 0 < s[("mlgw_endpoint_model_latency_seconds_sum", cur)] < 40 * 0.1
    assert s[("mlgw_endpoint_overhead_latency_seconds_count", cur)] == 40
    assert s[("mlgw_endpoint_model_latency_seconds_bucket", cur[:-1] + ',le="+Inf"}')] == 40
    assert s[("mlgw_endpoint_healthy_instances", cur)] == 2
    assert "# TYPE mlgw_endpoint_model_latency_seconds histogram" in text

    status = mlgw.status(QUICKSTART)
    variants = {v["name"]: v for v in status["host"]["endpoints"][0]["variants"]}
    assert variants["current"]["metrics"]["invocations"] == 40
    assert variants["challenger"]["metrics"]["modelErrors"] == 3
    text = mlgw.run("status", QUICKSTART).stdout
    assert "MODEL LATENCY" in text and "traffic since the endpoint was created" in text

    # A weight change keeps the counters; destroying the endpoint drops them.
    mlgw.run("apply", QUICKSTART, "--var", "challenger_weight=20", "--auto-approve")
    assert scrape(url)[1][("mlgw_endpoint_invocations_total", cur)] == 40
