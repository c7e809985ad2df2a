"""The function benchmark's handler: reports how long it ran, so the caller can subtract it."""
import time


def handler(event, context):
    t0 = time.perf_counter()
    spin = event.get("spin_us", 0) / 1e6
    while time.perf_counter() - t0 < spin:
        pass
    return {"handler_ms": (time.perf_counter() - t0) * 1000}
