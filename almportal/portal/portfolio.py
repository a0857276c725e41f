"""The portfolio overview: charts over every agent the user may see, a fixed number of queries
whatever the number of rows. Everything is scoped by the lower apps' *_visible_to selectors,
so a business owner sees their own agents only."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from ..accounts.models import User
from ..core.charts import Bar, BarChart, bar_chart
from ..inventory.choices import RiskTier, ReleaseState, Stage
from ..inventory.selectors import agents_visible_to, releases_visible_to
from ..operations.choices import Severity
from ..operations.models import MetricSample, MonitoringSettings
from ..operations.selectors import incidents_visible_to
from ..releases.choices import Decision
from ..releases.selectors import signoffs_visible_to

# Rubber-stamping: an approval given less than this long after the request opened (the release
# was submitted, which is when signers are notified and can first see it) is too fast for a
# reviewer to have read the manifest, the checklist evidence and the evaluations.
FAST_APPROVAL = timedelta(minutes=2)
# An approval also counts as unusually fast when it took less than this share of the median
# time all approvals took.
FAR_BELOW_MEDIAN = 0.1
COST_WINDOW_DAYS = 30
MONTHS = 12
QUEUE_BUCKETS = [("Under 1 day", timedelta(days=1)), ("1–3 days", timedelta(days=3)),
                 ("3–7 days", timedelta(days=7)), ("Over 7 days", None)]


@dataclass
class FastApproval:
    signoff: object
    took: timedelta

    @property
    def took_text(self) -> str:
        return _duration(self.took)


@dataclass
class Oversight:
    signoffs_chart: BarChart
    queue_chart: BarChart
    waiting: list
    median_wait: timedelta | None
    median_approval: timedelta | None
    fast: list[FastApproval] = field(default_factory=list)

    @property
    def median_wait_text(self) -> str:
        return _duration(self.median_wait)

    @property
    def median_approval_text(self) -> str:
        return _duration(self.median_approval)


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _counted(queryset, field_name: str) -> dict:
    return dict(queryset.order_by().values_list(field_name).annotate(n=Count("pk")))


def agents_by_stage(user: User) -> BarChart:
    counts = _counted(agents_visible_to(user), "stage")
    return bar_chart("stage", "Agents by lifecycle stage", "agents",
                     [Bar(label, counts.get(value, 0)) for value, label in Stage.choices])


def agents_by_tier(user: User) -> BarChart:
    counts = _counted(agents_visible_to(user), "risk_tier")
    return bar_chart("tier", "Agents by risk tier", "agents",
                     [Bar(label, counts.get(value, 0)) for value, label in RiskTier.choices])


def _month_starts(now: datetime, months: int) -> list[datetime]:
    first = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
    return list(reversed(starts))


def releases_per_month(user: User, *, now: datetime | None = None) -> BarChart:
    months = _month_starts(now or timezone.now(), MONTHS)
    rows = (releases_visible_to(user).filter(created_at__gte=months[0]).order_by()
            .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_current_timezone()))
            .values_list("month").annotate(n=Count("pk")))
    counts = {timezone.localtime(m).strftime("%Y-%m") if timezone.is_aware(m)
              else m.strftime("%Y-%m"): n for m, n in rows}
    return bar_chart("releases", f"Releases created per month (last {MONTHS})", "releases",
                     [Bar(m.strftime("%Y-%m"), counts.get(m.strftime("%Y-%m"), 0))
                      for m in months])


def incidents_by_severity(user: User) -> BarChart:
    counts = _counted(incidents_visible_to(user), "severity")
    return bar_chart("severity", "Incidents by severity (all time)", "incidents",
                     [Bar(label, counts.get(value, 0)) for value, label in Severity.choices])


def _monthly_budget(settings: MonitoringSettings | None, config: dict) -> float | None:
    """The agent's monitoring settings first, else its deployed release's configuration; a
    daily budget counts thirty times (operations' rule, read the other way round)."""
    def number(value):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else None
    if settings and settings.monthly_budget is not None:
        return settings.monthly_budget
    if settings and settings.daily_budget is not None:
        return settings.daily_budget * 30
    if number(config.get("monthly_budget")) is not None:
        return number(config["monthly_budget"])
    if number(config.get("daily_budget")) is not None:
        return number(config["daily_budget"]) * 30
    return None


def cost_against_budget(user: User, *, now: datetime | None = None) -> BarChart:
    now = now or timezone.now()
    agents = agents_visible_to(user)
    costs = dict(MetricSample.objects.filter(
        agent__in=agents, metric="cost", timestamp__gte=now - timedelta(days=COST_WINDOW_DAYS),
        timestamp__lte=now).order_by().values_list("agent_id").annotate(total=Sum("value")))
    settings = {s.agent_id: s for s in MonitoringSettings.objects.filter(agent__in=agents)}
    configs = {}
    for agent_id, config in (releases_visible_to(user).filter(state=ReleaseState.DEPLOYED)
                             .order_by("agent_id", "number")
                             .values_list("agent_id", "configuration")):
        configs[agent_id] = config or {}  # the latest deployed release wins
    ids = set(costs) | {a for a in set(settings) | set(configs)
                        if _monthly_budget(settings.get(a), configs.get(a, {})) is not None}
    named = agents.filter(pk__in=ids).order_by("name").values_list("pk", "name", "slug")
    bars = [Bar(name, round(costs.get(pk, 0.0), 2),
                _monthly_budget(settings.get(pk), configs.get(pk, {})), f"/agents/{slug}/")
            for pk, name, slug in named]
    return bar_chart("cost", f"Cost per agent, last {COST_WINDOW_DAYS} days, against the "
                     "monthly budget", "currency", bars, limit_label="monthly budget")


def oversight(user: User, *, now: datetime | None = None) -> Oversight:
    now = now or timezone.now()
    signoffs = list(signoffs_visible_to(user).filter(release__submitted_at__isnull=False)
                    .select_related("release__agent", "user").order_by("created_at", "pk"))
    per_reviewer: dict[str, int] = {}
    for s in signoffs:
        per_reviewer[str(s.user)] = per_reviewer.get(str(s.user), 0) + 1
    signoffs_chart = bar_chart("signoffs", "Sign-offs per reviewer", "sign-offs",
                               [Bar(name, n) for name, n in sorted(per_reviewer.items())])
    waiting = list(releases_visible_to(user).filter(state=ReleaseState.SUBMITTED,
                                                    submitted_at__isnull=False)
                   .select_related("agent").order_by("submitted_at", "pk"))
    ages = [now - r.submitted_at for r in waiting]
    buckets = [0] * len(QUEUE_BUCKETS)
    for age in ages:
        index = next(i for i, (_, upper) in enumerate(QUEUE_BUCKETS) if upper is None or age < upper)
        buckets[index] += 1
    queue_chart = bar_chart("queue", "Releases waiting for sign-off, by time waited", "releases",
                            [Bar(label, n) for (label, _), n in zip(QUEUE_BUCKETS, buckets)])
    approvals = [(s, s.created_at - s.release.submitted_at) for s in signoffs
                 if s.decision == Decision.APPROVE and s.created_at >= s.release.submitted_at]
    typical = median([took for _, took in approvals]) if approvals else None
    fast = [FastApproval(s, took) for s, took in approvals
            if took < FAST_APPROVAL or (typical and took < typical * FAR_BELOW_MEDIAN)]
    fast.sort(key=lambda f: f.took)
    return Oversight(signoffs_chart, queue_chart, waiting,
                     median(ages) if ages else None, typical, fast)


def portfolio(user: User) -> dict:
    now = timezone.now()
    return {
        "charts": [agents_by_stage(user), agents_by_tier(user),
                   releases_per_month(user, now=now), incidents_by_severity(user)],
        "cost": cost_against_budget(user, now=now),
        "oversight": oversight(user, now=now),
        "fast_approval": FAST_APPROVAL,
        "far_below_median": int(FAR_BELOW_MEDIAN * 100),
    }
