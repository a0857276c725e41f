"""The portfolio overview: charts over every agent the user may see, a fixed number of queries
whatever the number of rows. Everything is scoped by the lower apps' *_visible_to selectors,
so a business owner sees their own agents only."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from ..accounts.models import User
from ..core.charts import Bar, BarChart, bar_chart
from ..core.lists import Shortlist
from ..inventory.choices import RiskTier, Stage
from ..inventory.models import Agent
from ..inventory.selectors import agents_visible_to, sees_every_agent
from ..operations.choices import Severity
from ..operations.models import MetricSample, MonitoringSettings
from ..operations.selectors import incidents_visible_to
from ..releases.choices import Decision, ReleaseState
from ..releases.models import Release
from ..releases.selectors import releases_visible_to, signoffs_visible_to

# Rubber-stamping: an approval given less than this long after the request opened (the release
# was submitted, which is when signers are notified and can first see it) is too fast for a
# reviewer to have read the manifest, the checklist evidence and the evaluations.
FAST_APPROVAL = timedelta(minutes=2)
# An approval also counts as unusually fast when it took less than this share of the median
# time all approvals took.
FAR_BELOW_MEDIAN = 0.1
COST_WINDOW_DAYS = 30
COST_BARS = 20
FAST_SHOWN = 50
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
    waiting: int
    median_wait: timedelta | None
    median_approval: timedelta | None
    fast: Shortlist = field(default_factory=Shortlist)

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


def agent_charts(user: User) -> list[BarChart]:
    """Agents by lifecycle stage and by risk tier, counted in one pass over the agents."""
    by_stage: Counter = Counter()
    by_tier: Counter = Counter()
    for stage, tier, n in (agents_visible_to(user).order_by().values_list("stage", "risk_tier")
                           .annotate(n=Count("pk"))):
        by_stage[stage] += n
        by_tier[tier] += n
    return [bar_chart("stage", "Agents by lifecycle stage", "agents",
                      [Bar(label, by_stage[value]) for value, label in Stage.choices]),
            bar_chart("tier", "Agents by risk tier", "agents",
                      [Bar(label, by_tier[value]) for value, label in RiskTier.choices])]


def _month_starts(now: datetime, months: int) -> list[datetime]:
    first = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [first]
    for _ in range(months - 1):
        starts.append((starts[-1] - timedelta(days=1)).replace(day=1))
    return list(reversed(starts))


def _waiting_for_signoff() -> Q:
    return Q(state=ReleaseState.SUBMITTED, submitted_at__isnull=False)


def release_counts(user: User, now: datetime) -> dict:
    """One aggregate over the releases the user sees: how many were created in each of the last
    MONTHS months (`month0` the oldest), how many wait for sign-off (`waiting`) and how long
    they have waited (`queue0`… by QUEUE_BUCKETS)."""
    months = _month_starts(now, MONTHS)
    counts = {}
    for n, start in enumerate(months):
        window = Q(created_at__gte=start)
        if n + 1 < len(months):
            window &= Q(created_at__lt=months[n + 1])
        counts[f"month{n}"] = Count("pk", filter=window)
    waiting, lower = _waiting_for_signoff(), None
    counts["waiting"] = Count("pk", filter=waiting)
    for n, (_, upper) in enumerate(QUEUE_BUCKETS):
        window = waiting
        if upper is not None:
            window &= Q(submitted_at__gt=now - upper)
        if lower is not None:
            window &= Q(submitted_at__lte=now - lower)
        counts[f"queue{n}"] = Count("pk", filter=window)
        lower = upper
    return releases_visible_to(user).order_by().aggregate(**counts)


def releases_per_month(counts: dict, now: datetime) -> BarChart:
    return bar_chart("releases", f"Releases created per month (last {MONTHS})", "releases",
                     [Bar(start.strftime("%Y-%m"), counts[f"month{n}"])
                      for n, start in enumerate(_month_starts(now, MONTHS))])


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
    """The COST_BARS agents that cost most over the window, against their budgets: the sums
    and the ranking are the database's, budgets are read for the bars shown only."""
    now = now or timezone.now()
    agents = agents_visible_to(user)
    top = list(MetricSample.objects.filter(
        agent__in=agents, metric="cost", timestamp__gte=now - timedelta(days=COST_WINDOW_DAYS),
        timestamp__lte=now).order_by().values("agent_id").annotate(total=Sum("value"))
        .order_by("-total", "agent_id").values_list("agent_id", "total")[:COST_BARS])
    costs = dict(top)
    settings = {s.agent_id: s for s in MonitoringSettings.objects.filter(agent_id__in=costs)}
    configs = {}
    for agent_id, config in (Release.objects.filter(agent_id__in=costs,
                                                    state=ReleaseState.DEPLOYED)
                             .order_by("agent_id", "number")
                             .values_list("agent_id", "configuration")):
        configs[agent_id] = config or {}  # the latest deployed release wins
    named = {pk: (name, slug) for pk, name, slug in
             Agent.objects.filter(pk__in=costs).values_list("pk", "name", "slug")}
    bars = [Bar(named[pk][0], round(total or 0.0, 2),
                _monthly_budget(settings.get(pk), configs.get(pk, {})), f"/agents/{named[pk][1]}/")
            for pk, total in top]
    return bar_chart("cost", f"Cost per agent, last {COST_WINDOW_DAYS} days, against the "
                     f"monthly budget (the {COST_BARS} costliest)", "currency", bars,
                     limit_label="monthly budget")


def _median(queryset, field_name: str, count: int):
    """The median of a column of `count` rows, found by the database (the two middle rows of
    the sorted column)."""
    ordered = queryset.order_by(field_name).values_list(field_name, flat=True)
    if not count:
        return None
    middle = list(ordered[(count - 1) // 2: count // 2 + 1])
    return middle[0] + (middle[-1] - middle[0]) / 2


def _queue_chart(counts: dict) -> BarChart:
    return bar_chart("queue", "Releases waiting for sign-off, by time waited", "releases",
                     [Bar(label, counts[f"queue{n}"])
                      for n, (label, _) in enumerate(QUEUE_BUCKETS)])


def _is_timely_approval() -> Q:
    """An approval given after the release was submitted: the ones whose time is measured."""
    return Q(decision=Decision.APPROVE, created_at__gte=F("release__submitted_at"))


def oversight(user: User, counts: dict, now: datetime) -> Oversight:
    """Sign-off load, aggregated in the database; only the rows shown are read. `counts` are
    the user's release_counts."""
    signoffs = signoffs_visible_to(user).filter(release__submitted_at__isnull=False)
    per_reviewer = list(signoffs.order_by().values("user_id").annotate(
        n=Count("pk"), approved=Count("pk", filter=_is_timely_approval()))
        .values_list("user_id", "n", "approved"))
    people = {u.pk: str(u) for u in User.objects.filter(pk__in=[r[0] for r in per_reviewer])}
    signoffs_chart = bar_chart("signoffs", "Sign-offs per reviewer", "sign-offs",
                               sorted((Bar(people[pk], n) for pk, n, _ in per_reviewer),
                                      key=lambda bar: bar.label))
    oldest_half = _median(releases_visible_to(user).filter(_waiting_for_signoff()),
                          "submitted_at", counts["waiting"])
    approvals = (signoffs.filter(_is_timely_approval())
                 .annotate(took=ExpressionWrapper(F("created_at") - F("release__submitted_at"),
                                                  output_field=DurationField())))
    typical = _median(approvals, "took", sum(approved for _, _, approved in per_reviewer))
    too_fast = Q(took__lt=FAST_APPROVAL)
    if typical:
        too_fast |= Q(took__lt=typical * FAR_BELOW_MEDIAN)
    fast = Shortlist.of(approvals.filter(too_fast).select_related("release__agent", "user")
                        .order_by("took", "pk"), FAST_SHOWN)
    return Oversight(signoffs_chart, _queue_chart(counts), counts["waiting"],
                     now - oldest_half if oldest_half else None, typical,
                     Shortlist([FastApproval(s, s.took) for s in fast], fast.total))


def portfolio(user: User) -> dict:
    now = timezone.now()
    counts = release_counts(user, now)
    return {
        # Whom the figures cover: the fleet for the oversight roles, else the user's own agents.
        "scope": "fleet" if sees_every_agent(user) else "own",
        "charts": [*agent_charts(user), releases_per_month(counts, now),
                   incidents_by_severity(user)],
        "cost": cost_against_budget(user, now=now),
        "oversight": oversight(user, counts, now),
        "fast_approval": FAST_APPROVAL,
        "far_below_median": int(FAR_BELOW_MEDIAN * 100),
    }
