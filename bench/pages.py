"""Pages at fleet scale: every role's home page, the portfolio, the inventory list, search and
filters, the agent page (with a long history) and the agents API, at each fleet size.

Each figure is the page's median latency over the login page's, timed interleaved, median of
three rounds. Done when, at the largest size, each is within MAX_RATIO of the login page and
within MAX_GROWTH of its own time at the smallest size.
"""

import statistics
from collections.abc import Callable

from . import common

FLEET = True
REQUESTS = 8
MAX_RATIO = 3.0
MAX_GROWTH = 1.5
# Not a goal: a signed-in page that reads nothing but its user, for what any signed-in page
# costs over the login page (session, roles, the header's counts, the page's frame).
FLOOR = ("signed-in floor", "compliance", "/account/password/")


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
        FLOOR,
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
              f"{MAX_GROWTH}× the time at {small:,}."),
             ("Growth is the page's time at the larger size over its time at the smaller, "
              "divided by the login page's (the median over every round of that size): the "
              "login page reads no agent, so this takes out the machine's drift between the two "
              "sizes. The times' own growth is shown beside it."), "",
             f"{'page':<18} {'as':<11} {small:>8,} {large:>8,} {'growth':>7} {'in ms':>6} "
             f"{'ms':>7}  verdict"]
    login = {size: statistics.median(r.value / r.median for r in by_size[size].values())
             for size in (small, large)}
    drift = login[large] / login[small]
    for key, at_large in by_size[large].items():
        if key == FLOOR[:2]:
            continue
        at_small = by_size[small][key]
        growth = at_large.value / at_small.value / drift
        ok = at_large.median <= MAX_RATIO and growth <= MAX_GROWTH
        lines.append(f"{key[0]:<18} {key[1]:<11} {at_small.median:>7.2f}× {at_large.median:>7.2f}× "
                     f"{growth:>6.2f}× {at_large.value / at_small.value:>5.2f}× "
                     f"{at_large.value * 1000:>7.1f}  {common.verdict(ok)}")
    lines.append(f"The login page itself: {login[small] * 1000:.1f} ms during the {small:,} "
                 f"rounds, {login[large] * 1000:.1f} ms during the {large:,}.")
    floor = by_size[large][FLOOR[:2]]
    lines.append(f"The signed-in floor (the password form, one query): {floor.median:.2f}× the "
                 f"login page at {large:,} agents ({floor.value * 1000:.1f} ms).")
    return lines
