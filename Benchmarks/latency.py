"""Median latency of N requests paced at RATE requests/s over one keep-alive connection, for each
URL given; prints one JSON line per URL. The client's own overhead is the same for every URL, so
differences between URLs are what the path adds.

python3 Benchmarks/latency.py RATE N URL [URL ...]
python3 Benchmarks/latency.py --interleave RATE N URL URL ...   (requests alternate between the URLs
    within one paced run, so every URL sees the same conditions)

LATENCY_HEADERS='{"x-api-key": "..."}' adds headers to every request (URLs that do not need them
ignore them).
"""
import http.client
import json
import os
import statistics
import sys
import time
from urllib.parse import urlparse

interleave = sys.argv[1] == "--interleave"
args = sys.argv[2:] if interleave else sys.argv[1:]
rate, n, urls = float(args[0]), int(args[1]), args[2:]
HEADERS = {"Content-Type": "text/csv", **json.loads(os.environ.get("LATENCY_HEADERS", "{}"))}

if interleave:
    conns = []
    for url in urls:
        u = urlparse(url)
        conns.append((http.client.HTTPConnection(u.hostname, u.port), u.path))
    samples = [[] for _ in urls]
    interval = 1 / rate
    start = time.perf_counter()
    for i in range((n + 200) * len(urls)):
        target = start + i * interval
        now = time.perf_counter()
        if target > now:
            time.sleep(target - now)
        k = i % len(urls)
        conn, path = conns[k]
        t0 = time.perf_counter()
        conn.request("POST", path, body=b"12,80.5,3", headers=HEADERS)
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
        if i >= 200 * len(urls):
            samples[k].append((time.perf_counter() - t0) * 1e3)
    for url, s in zip(urls, samples):
        s.sort()
        print(json.dumps({"url": url, "median_ms": round(statistics.median(s), 4), "p99_ms": round(s[int(len(s) * 0.99)], 4), "requests": len(s)}))
    sys.exit(0)

for url in urls:
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    samples = []
    interval = 1 / rate
    start = time.perf_counter()
    for i in range(n + 200):
        target = start + i * interval
        now = time.perf_counter()
        if target > now:
            time.sleep(target - now)
        t0 = time.perf_counter()
        conn.request("POST", u.path, body=b"12,80.5,3", headers=HEADERS)
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
        if i >= 200:  # warm-up excluded
            samples.append((time.perf_counter() - t0) * 1e3)
    samples.sort()
    print(json.dumps({"url": url, "median_ms": round(statistics.median(samples), 4),
                      "p99_ms": round(samples[int(len(samples) * 0.99)], 4), "requests": n}))
