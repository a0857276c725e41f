"""Background work at fleet size: a reminders run with nothing new over 10,000 open reviews
(bench/reminders.py) and a 10,000-agent portfolio evidence pack built by the task's function in
a process of its own (bench/packs.py). Measured once, on the largest fleet."""

from . import common, packs, reminders

FLEET = True


def measure(fleet, host: str, port: int) -> list[str] | None:
    if fleet.size < reminders.OPEN_REVIEWS:
        return None
    login_page = lambda: common.fetch(host, port, "/login/", {})  # noqa: E731
    return reminders.run(fleet.people.owner, login_page) + packs.run(fleet.people.auditor)


def report(results: dict[int, list[str] | None]) -> list[str]:
    measured = [lines for lines in results.values() if lines]
    return measured[-1] if measured else ["Background work: the fleet never reached "
                                          f"{reminders.OPEN_REVIEWS:,} agents."]
