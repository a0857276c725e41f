"""The search in every page's header: agents, releases and incidents by name, and records by
hash (a release's manifest, a prompt's text, a ledger entry), each among what the user may see.
One page and one API endpoint (`GET /api/v1/search/?q=`) answer with the same results."""

import re
from dataclasses import asdict, dataclass, field

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.models import User
from ..accounts.permissions import signed_in
from ..audit.models import LedgerEntry
from ..audit.rules import can_view_audit
from ..inventory.selectors import agents_visible_to, components_visible_to
from ..operations.selectors import incidents_visible_to
from ..releases.selectors import releases_visible_to

LIMIT = 10  # hits shown per kind
SHORTEST = 2  # characters a search needs
HASH_PREFIX = re.compile(r"[0-9a-f]{8,64}")  # a hash, or its first characters
FULL_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass
class Hit:
    label: str
    detail: str
    url: str


@dataclass
class Results:
    query: str
    agents: list[Hit] = field(default_factory=list)
    releases: list[Hit] = field(default_factory=list)
    incidents: list[Hit] = field(default_factory=list)
    hashes: list[Hit] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.agents) + len(self.releases) + len(self.incidents) + len(self.hashes)


def _by_name(user: User, text: str, results: Results) -> None:
    agents = agents_visible_to(user).filter(Q(name__icontains=text) | Q(slug__icontains=text))
    results.agents = [Hit(a.name, a.get_stage_display(), a.get_absolute_url())
                      for a in agents.order_by("name")[:LIMIT]]
    releases = releases_visible_to(user).filter(
        Q(label__icontains=text) | Q(agent__name__icontains=text))
    results.releases = [Hit(str(r), r.get_state_display(), r.get_absolute_url())
                        for r in releases.order_by("-created_at")[:LIMIT]]
    incidents = incidents_visible_to(user).filter(
        Q(title__icontains=text) | Q(agent__name__icontains=text))
    results.incidents = [Hit(str(i), f"{i.agent} · {i.get_status_display()}",
                             i.get_absolute_url()) for i in incidents.order_by("-pk")[:LIMIT]]


def _by_hash(user: User, text: str, results: Results) -> None:
    releases = releases_visible_to(user).filter(manifest_hash__startswith=text)[:LIMIT]
    prompts = components_visible_to(user, "prompts").filter(content_hash__startswith=text)
    hits = [Hit(str(r), f"Manifest hash {r.manifest_hash}", r.get_absolute_url())
            for r in releases]
    hits += [Hit(f"{p.agent}: prompt {p.name} v{p.version}", f"Text hash {p.content_hash}",
                 p.agent.get_absolute_url()) for p in prompts[:LIMIT]]
    # The ledger is searched by a whole hash only: its index answers that, not a prefix.
    if FULL_HASH.fullmatch(text) and can_view_audit(user):
        hits += [Hit(f"Ledger entry #{e.seq}", f"{e.object_repr} · {e.get_action_display()}",
                     reverse("audit:entry", args=[e.seq]))
                 for e in LedgerEntry.objects.filter(hash=text)[:LIMIT]]
    results.hashes = hits


def search(user: User, query: str) -> Results:
    text = " ".join(query.split())[:200]
    results = Results(text)
    if len(text) < SHORTEST:
        return results
    _by_name(user, text, results)
    if HASH_PREFIX.fullmatch(text.lower()):
        _by_hash(user, text.lower(), results)
    return results


@login_required
def search_page(request):
    results = search(request.user, request.GET.get("q", ""))
    return render(request, "portal/search.html", {"results": results,
                                                  "shortest": SHORTEST})


_HITS = serializers.ListField(child=inline_serializer("SearchHit", {
    "label": serializers.CharField(), "detail": serializers.CharField(),
    "url": serializers.CharField()}))


class SearchAPI(APIView):
    """Agents, releases, incidents and hashes matching `q`, among what the caller may see."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="At least two characters; a hash "
                                                            "or its first eight or more.")],
        responses=inline_serializer("SearchResults", {
            "query": serializers.CharField(), "agents": _HITS, "releases": _HITS,
            "incidents": _HITS, "hashes": _HITS}))
    def get(self, request: Request) -> Response:
        results = search(signed_in(request.user), request.query_params.get("q", ""))
        return Response(asdict(results))
