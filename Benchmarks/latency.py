"""Median latency of N requests paced at RATE requests/s over one keep-alive connection, for each
URL given; prints one JSON line per URL. The client's own overhead is the same for every URL, so
differences between URLs are what the path adds.

python3 Benchmarks/latency.py RATE N URL [URL ...]
"""
import http.client
import json
import statistics
import sys
import time
from urllib.parse import urlparse

rate, n, urls = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
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
        conn.request("POST", u.path, body=b"12,80.5,3", headers={"Content-Type": "text/csv"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200, r.status
        if i >= 200:  # warm-up excluded
            samples.append((time.perf_counter() - t0) * 1e3)
    samples.sort()
    print(json.dumps({"url": url, "median_ms": round(statistics.median(samples), 4),
                      "p99_ms": round(samples[int(len(samples) * 0.99)], 4), "requests": n}))
