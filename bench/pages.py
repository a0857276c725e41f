"""Pages at fleet scale: every role's home page, the portfolio, the inventory list, search and
filters, the agent page (with a long history) and the agents API, at each fleet size.

Each figure is the page's median latency over the login page's, timed interleaved, median of
three rounds. Done when, at the largest size, each is within MAX_RATIO of the login page and
within MAX_GROWTH of its own time at the smallest size.
"""

from collections.abc import Callable

from . import common

FLEET = True
REQUESTS = 8
MAX_RATIO = 3.0
MAX_GROWTH = 1.5


def targets(fleet) -> list[tuple[str, str, str]]:
    """(label, persona, path)."""
    homes = [(f"{role} home", role, "/") for role in ("owner", "compliance", "security",
                                                      "auditor", "admin")]
    return homes + [
        ("portfolio", "compliance", "/portfolio/"),
        ("portfolio", "owner", "/portfolio/"),
        ("inventory list", "compliance", "/agents/"),
        ("inventory search", "compliance", "/agents/?q=agent+0042"),
        ("inventory filters", "compliance", "/agents/?stage=live&risk_tier=high"),
        ("agent page", "compliance", f"/agents/{fleet.long_history.slug}/"),
        ("agents API list", "compliance", "/api/v1/agents/"),
    ]


def measure(fleet, host: str, port: int) -> dict[tuple[str, str], common.Ratio]:
    def timed(path: str, headers: dict) -> Callable[[], float]:
        return lambda: common.latency(host, port, path, headers, REQUESTS)

    baseline = timed(common.BASELINE[1], {})
    return {(label, persona): common.interleaved(label, baseline,
                                                 timed(path, fleet.sessions[persona]))
            for label, persona, path in targets(fleet)}


def report(by_size: dict[int, dict]) -> list[str]:
    small, large = min(by_size), max(by_size)
    lines = [("Pages: median latency over the login page's (interleaved, median of "
              f"{common.ROUNDS} rounds of {REQUESTS} requests), under gunicorn on PostgreSQL."),
             (f"Done-when: at {large:,} agents ≤ {MAX_RATIO}× the login page and ≤ "
              f"{MAX_GROWTH}× the time at {small:,}."), "",
             f"{'page':<18} {'as':<11} {small:>8,} {large:>8,} {'growth':>7} {'ms':>7}  verdict"]
    for key, at_large in by_size[large].items():
        at_small = by_size[small][key]
        growth = at_large.value / at_small.value
        ok = at_large.median <= MAX_RATIO and growth <= MAX_GROWTH
        lines.append(f"{key[0]:<18} {key[1]:<11} {at_small.median:>7.2f}× {at_large.median:>7.2f}× "
                     f"{growth:>6.2f}× {at_large.value * 1000:>7.1f}  {common.verdict(ok)}")
    return lines
