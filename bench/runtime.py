"""The runtime status gateways poll: requests per second of the 200 path (no ETag) and the
304 path (If-None-Match), against the login page's, under wrk (a Python load loop when wrk is
not installed: `apt-get install wrk`).

Done when the 304 path reaches MIN_304 and the 200 path MIN_200 of the login page's rate.
"""

import statistics
import threading
import time

from . import common

FLEET = True
SECONDS = 3.0
CONNECTIONS = 8
MIN_304 = 0.70
MIN_200 = 0.50


def python_throughput(host: str, port: int, path: str, headers: dict, seconds: float,
                      connections: int = CONNECTIONS) -> float:
    """Requests per second from `connections` threads, each on a keep-alive connection."""
    import http.client

    done = [0] * connections
    stop = time.monotonic() + seconds

    def loop(n: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while time.monotonic() < stop:
            connection.request("GET", path, headers=headers)
            connection.getresponse().read()
            done[n] += 1
        connection.close()

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def rate(host, port, path, headers) -> float:
    if common.wrk_available():
        return common.throughput(host, port, path, headers, SECONDS, CONNECTIONS)
    return python_throughput(host, port, path, headers, SECONDS)


def measure(fleet, host: str, port: int) -> dict[str, common.Ratio]:
    path = f"/api/v1/runtime/agents/{fleet.live.slug}/"
    token = {"Authorization": f"Bearer {fleet.runtime_key}"}
    status, _ = common.fetch(host, port, path, token)
    if status != 200:
        raise SystemExit(f"The runtime status answered {status}.")
    etag = _etag(host, port, path, token)
    def baseline() -> float:
        return rate(host, port, common.BASELINE[1], {})

    return {
        "200 (full answer)": common.interleaved(
            "200", baseline, lambda: rate(host, port, path, token)),
        "304 (If-None-Match)": common.interleaved(
            "304", baseline, lambda: rate(host, port, path, {**token, "If-None-Match": etag})),
    }


def _etag(host, port, path, headers) -> str:
    import http.client

    connection = http.client.HTTPConnection(host, port, timeout=60)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    etag = response.getheader("ETag")
    if etag is None:
        raise SystemExit(f"{path} sent no ETag.")
    return etag


def report(by_size: dict[int, dict]) -> list[str]:
    tool = "wrk" if common.wrk_available() else "a Python load loop (wrk is not installed)"
    lines = [(f"Runtime status: requests per second over the login page's, under {tool}, "
              f"{CONNECTIONS} connections, {SECONDS:g} s each, interleaved, median of "
              f"{common.ROUNDS}."), f"Done-when: 304 ≥ {MIN_304:.0%}, 200 ≥ {MIN_200:.0%}.", "",
             f"{'path':<22} {'agents':>8} {'ratio':>7} {'req/s':>8}  verdict"]
    for size, results in sorted(by_size.items()):
        for label, ratio in results.items():
            floor = MIN_304 if label.startswith("304") else MIN_200
            lines.append(f"{label:<22} {size:>8,} {ratio.median:>6.0%} "
                         f"{statistics.median(ratio.values):>8.0f}  "
                         f"{common.verdict(ratio.median >= floor)}")
    return lines
