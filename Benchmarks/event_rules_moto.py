"""moto's EventBridge matcher on the rules and events of Benchmarks/events-bench (the same
generator, ported), for the comparison in docs/benchmarks.md. moto matches rule by rule.

python3 -m venv /tmp/motoenv && /tmp/motoenv/bin/pip install moto
/tmp/motoenv/bin/python Benchmarks/event_rules_moto.py RULES EVENTS
"""
import json
import sys
import time

from moto.events.models import EventPattern

MASK = (1 << 64) - 1


class SplitMix:
    def __init__(self, state):
        self.state = state

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


SOURCES, TYPES = 50, 20


def rule(i):
    k, v = i % 10, i // 10
    detail = [
        f'"state": ["state-{v % 100}"]',
        f'"amount": [{{"numeric": [">", {v % 1000}, "<=", {v % 1000 + 50}]}}]',
        f'"region": [{{"prefix": "eu-{v % 30}"}}]',
        f'"file": [{{"suffix": ".t{v % 40}"}}]',
        f'"user": [{{"equals-ignore-case": "User{v % 200}"}}]',
        f'"path": [{{"wildcard": "/data/{v % 50}/*/part-*"}}]',
        f'"status": [{{"anything-but": ["s{v % 20}", "s{v % 20 + 1}"]}}]',
        f'"ip": [{{"cidr": "10.{v % 250}.0.0/16"}}]',
        f'"flag": [{{"exists": true}}], "state": ["state-{v % 100}"]',
        f'"$or": [{{"state": ["state-{v % 100}"]}}, {{"amount": [{{"numeric": ["=", {v % 1000}]}}]}}]',
    ][k]
    return f'{{"source": ["app.s{i % SOURCES}"], "detail-type": ["Type {i // SOURCES % TYPES}"], "detail": {{{detail}}}}}'


def event(r, rules):
    i = r.below(max(rules, 1) * 2)
    v = i // 10
    return (f'{{"version":"0","id":"e{i}","detail-type":"Type {i // SOURCES % TYPES}","source":"app.s{i % SOURCES}",'
            f'"account":"000000000000","time":"2026-12-02T20:00:00Z","region":"us-east-1",'
            f'"resources":["arn:aws:sagemaker:us-east-1:000000000000:endpoint/fraud"],'
            f'"detail":{{"state":"state-{v % 100}","amount":{v % 1000 + r.below(60)},"region":"eu-{v % 30}-west",'
            f'"file":"x.t{v % 40}","user":"USER{v % 200}","path":"/data/{v % 50}/2026/part-0001","status":"s{r.below(25)}",'
            f'"ip":"10.{v % 250}.3.4","flag":true,"tags":["a","b","c"]}}}}')


def main():
    rules, n = int(sys.argv[1]), int(sys.argv[2])
    patterns = []
    for i in range(rules):
        try:
            patterns.append(EventPattern.load(rule(i)))
        except Exception as e:  # an operator moto does not know
            print(json.dumps({"unsupported": str(e)[:200], "rule": rule(i)}))
            return
    r = SplitMix(42)
    events = [event(r, rules) for _ in range(n)]
    matched = 0
    t = time.perf_counter()
    for text in events:
        e = json.loads(text)
        matched += sum(1 for p in patterns if p.matches_event(e))
    s = time.perf_counter() - t
    print(json.dumps({"rules": rules, "events": n, "events_per_second": round(n / s), "us_per_event": round(s / n * 1e6, 1),
                      "matches_per_event": matched / n}))


if __name__ == "__main__":
    main()
