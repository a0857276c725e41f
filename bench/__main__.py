"""Time the agent lists at 100 and 1,000 agents against a trivial request (the login page).

Prints the median time of each request at each size, the ratio of the 1,000-row time to the
100-row time and to the baseline, and the queries per request (a count that grows with the
rows is an N+1). There are no pass/fail thresholds: read the ratios.
"""

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

SIZES = (100, 1_000)
WARMUP = 3
REPEATS = 25
TARGETS = [
    ("inventory list page", "/agents/", {}),
    ("agents API list", "/api/v1/agents/", {"HTTP_ACCEPT": "application/json"}),
]
BASELINE = ("login page", "/login/")
SLOW_RATIO = 2.0  # where the slowest query is shown, to start the investigation
SQL_SHOWN = 400


def configure(workdir: Path) -> None:
    """A throwaway database and production-like settings, before Django starts."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "almportal.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "ALM_VAR_DIR": str(workdir),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    })
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-outside-benchmarks")
    (workdir / "staticfiles").mkdir(parents=True, exist_ok=True)


def setup_django() -> None:
    import django
    from django.core.management import call_command
    from django.test.utils import override_settings

    django.setup()
    # Templates resolve {% static %} without a collectstatic run.
    override_settings(STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }).enable()
    call_command("migrate", verbosity=0, interactive=False)


def make_people():
    from django.contrib.auth.models import Group

    from almportal.accounts.models import User
    from almportal.accounts.roles import GROUP_NAMES, Role

    people = {}
    for username, role in (("owner", Role.BUSINESS_OWNER), ("compliance", Role.COMPLIANCE)):
        user = User.objects.create(username=f"bench-{username}", first_name=username.title())
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        people[username] = user
    return people


def seed_agents(owner, start: int, stop: int) -> None:
    """Agents numbered start..stop-1, all owned by `owner`, inserted in bulk."""
    from django.contrib.auth.models import Permission

    from almportal.inventory import choices
    from almportal.inventory.models import Agent, AgentUserObjectPermission

    stages, tiers = list(choices.Stage), list(choices.RiskTier)
    units = ["Finance", "IT Operations", "People Operations", "Sales", "Customer Service"]
    agents = Agent.objects.bulk_create([
        Agent(
            name=f"Bench agent {n:04d}", slug=f"bench-agent-{n:04d}",
            purpose="Benchmark row: answers questions from a knowledge base.",
            why_agent="Benchmark row.", business_owner=owner, created_by=owner,
            business_unit=units[n % len(units)], intended_users="Staff",
            audience=choices.Audience.INTERNAL,
            success_metrics=[{"name": "Deflection", "target": "30%"}],
            autonomy_level=choices.AutonomyLevel.SUGGEST_ONLY,
            data_classification=choices.DataClassification.INTERNAL,
            action_reach=choices.ActionReach.READ_ONLY, stage=stages[n % len(stages)],
            risk_tier=tiers[n % len(tiers)], tags=["bench"],
        )
        for n in range(start, stop)
    ], batch_size=500)
    if not agents or agents[0].pk is None:
        agents = list(Agent.objects.filter(slug__gte=f"bench-agent-{start:04d}",
                                           slug__lt=f"bench-agent-{stop:04d}"))
    permissions = Permission.objects.filter(content_type__app_label="inventory",
                                            codename__in=("view_agent", "change_agent"))
    AgentUserObjectPermission.objects.bulk_create([
        AgentUserObjectPermission(content_object=agent, user=owner, permission=permission)
        for agent in agents for permission in permissions
    ], batch_size=500)


def measure(client, path: str, headers: dict) -> tuple[float, int, list[dict]]:
    """Median seconds per request, the status, and the queries of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(path, **headers)
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path, **headers)
        timings.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        client.get(path, **headers)
    return statistics.median(timings), response.status_code, list(queries.captured_queries)


def run() -> list[str]:
    from django.test import Client

    people = make_people()
    baseline, status, _ = measure(Client(), BASELINE[1], {})
    if status != 200:
        raise SystemExit(f"The baseline {BASELINE[1]} answered {status}.")
    results: dict[tuple[str, str], dict[int, tuple[float, int, int]]] = {}
    seeded = 0
    for size in SIZES:
        seed_agents(people["owner"], seeded, size)
        seeded = size
        for persona, user in people.items():
            client = Client()
            client.force_login(user)
            for label, path, headers in TARGETS:
                results.setdefault((label, persona), {})[size] = measure(client, path, headers)
    return report(baseline, results)


def report(baseline: float, results) -> list[str]:
    small, large = SIZES
    lines = [
        f"ALM Portal benchmark: median of {REPEATS} requests after {WARMUP} warm-up, "
        f"SQLite, DEBUG off.",
        f"Baseline: {BASELINE[0]} ({BASELINE[1]}) {baseline * 1000:.1f} ms.",
        "",
        f"{'request':<22} {'as':<11} {small:>7,} rows {large:>7,} rows "
        f"{f'{large}/{small}':>9} {'/baseline':>10} {'queries':>10}",
    ]
    slow = []
    for (label, persona), by_size in results.items():
        (t_small, s_small, q_small), (t_large, s_large, q_large) = by_size[small], by_size[large]
        if s_small != 200 or s_large != 200:
            lines.append(f"{label:<22} {persona:<11} answered {s_small}/{s_large}: not measured")
            continue
        flag = "  <- grows with rows" if len(q_large) > len(q_small) else ""
        lines.append(
            f"{label:<22} {persona:<11} {t_small * 1000:>9.1f} ms {t_large * 1000:>9.1f} ms "
            f"{t_large / t_small:>8.2f}x {t_large / baseline:>9.2f}x "
            f"{len(q_small):>4} → {len(q_large):<4}{flag}")
        if t_large / t_small > SLOW_RATIO and q_large:
            worst = max(q_large, key=lambda q: float(q["time"]))
            slow.append(f"{label} as {persona}: {float(worst['time']) * 1000:.0f} ms in "
                        f"{worst['sql'][:SQL_SHOWN]}…")
    lines += ["", f"{large}/{small}: time at {large:,} agents over time at {small:,} "
              f"(about 1.0 when the list is paginated and free of N+1 queries).",
              f"/baseline: time at {large:,} agents over the baseline request."]
    if slow:
        lines += ["", f"Slowest query where {large}/{small} exceeds {SLOW_RATIO}x:", *slow]
    return lines


def background_work() -> list[str]:
    """Reminders over 10,000 open reviews and a 10,000-agent portfolio pack (bench/reminders.py,
    bench/packs.py), on the agents seeded above topped up to 10,000."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from almportal.accounts.models import User
    from almportal.accounts.roles import GROUP_NAMES, Role

    from . import packs, reminders

    owner = User.objects.get(username="bench-owner")
    seed_agents(owner, SIZES[-1], reminders.OPEN_REVIEWS)
    lines = reminders.run(owner, lambda: Client().get(BASELINE[1]))
    auditor = User.objects.create(username="bench-auditor")
    auditor.groups.add(Group.objects.get(name=GROUP_NAMES[Role.AUDITOR]))
    return lines + packs.run(auditor)


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    workdir = Path(tempfile.mkdtemp(prefix="almportal-bench-"))
    started = time.perf_counter()
    try:
        configure(workdir)
        setup_django()
        lines = run()
        lines += background_work()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(lines))
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
