"""The live status page (`mlgw-deploy ui STACK`): served by the host on loopback, no network,
updating itself; checked in headless Chromium (Debian's package, installed by scripts/test)
against a running stack, with a screenshot under the test's folder."""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

from conftest import ROOT
from test_monitors import send, traffic


def chromium(*args, timeout=90):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed (scripts/test installs it from Debian's packages)"
    p = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                        "--virtual-time-budget=5000", "--window-size=1400,1000", *args], capture_output=True, text=True, timeout=timeout)
    return p


def test_the_status_page_shows_the_live_environment(mlgw, workdir, tmp_path):
    stack = str(workdir / "stacks" / "enterprise")
    mlgw.run("apply", stack, "--auto-approve", timeout=300)
    url = mlgw.run("ui", stack).stdout.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/_ui", url), url
    # Traffic the page must count, and a monitor run it must show.
    send(mlgw.output(stack, "v1_url") + "/score", traffic(120, seed=3, drifted=True), prefix="ui")
    time.sleep(1.6)
    mlgw.run("monitor", "run", stack, "fraud-drift", check=False)
    state = json.loads(urllib.request.urlopen(url + "/state", timeout=5).read())
    counts = {f"fraud/{v['name']}": v["metrics"]["invocations"] for v in state["snapshot"]["endpoints"][0]["variants"]}
    assert sum(counts.values()) == 120
    # The page itself: no external resource of any kind.
    html = urllib.request.urlopen(url, timeout=5).read().decode()
    assert not re.search(r"(src|href)=\"https?://", html) and "cdn" not in html.lower()
    dom = chromium("--dump-dom", url).stdout
    assert 'data-ready="1"' in dom, dom[:2000]
    for key, n in counts.items():
        assert f'data-variant="{key}" data-invocations="{n}"' in dom
    assert 'data-monitor="fraud-drift"' in dom and 'data-feature="amount"' in dom
    assert 'data-group="customers"' in dom and "Monitor Run Completed" in dom
    # Scaling policies with their capacity, alarms and activities.
    assert 'data-policy="fraud-current" data-desired="1" data-running="1"' in dom
    assert 'data-policy="score-with-features" data-desired="1" data-running="1"' in dom
    assert "TargetTracking-endpoint/fraud/variant/current-AlarmHigh-" in dom
    assert re.search(r'data-node="endpoints:fraud"', dom) and re.search(r'data-node="models:fraud-v1"', dom)
    # The clock moved: the page shows it.
    mlgw.run("clock", stack, "advance", "2h")
    dom = chromium("--dump-dom", url).stdout
    assert re.search(r"\(\d+ s ahead\)", dom), "the moved clock is not shown"
    shot = tmp_path / "status-page.png"
    chromium(f"--screenshot={shot}", url)
    assert shot.exists() and shot.stat().st_size > 20_000
