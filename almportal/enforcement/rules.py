"""Pure decisions about policy revisions: what a revision is called, whether a gateway's is
current, stale or unknown, and whether every reporting gateway has halted."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from ..core.hashing import content_hash

# A gateway that has reported within this long counts as reporting: its confirmation is
# awaited when the agent is suspended, and past it the agent page shows the gateway silent.
REPORTING_WINDOW = timedelta(hours=1)

FORBID_ALL_PREFIX = "forbid-all:"
# Served when no release serves in the environment: nothing is permitted.
NOTHING_REVISION = "nothing"


class Mode:
    RELEASES = "releases"
    FORBID_ALL = "forbid_all"
    NOTHING = "nothing"


class Standing:
    CURRENT = "current"
    STALE = "stale"  # a revision the portal served for this agent before
    DIFFERENT = "different"  # a revision the portal never served for this agent


def releases_revision(manifest_hashes: Iterable[str]) -> str:
    """The manifest hash of the release that serves; several releases (canary, rainbow) join
    their hashes, sorted, with "+"."""
    return "+".join(sorted(set(manifest_hashes))) or NOTHING_REVISION


def forbid_all_revision(agent_id: int, suspension_id: int | None) -> str:
    """Distinct for each suspension (a new drill is a new revision), and for retirement."""
    cause = {"suspension": suspension_id} if suspension_id else {"retired": True}
    return FORBID_ALL_PREFIX + content_hash({"agent": agent_id, **cause})


def standing(revision: str, current: str, known: set[str]) -> str:
    if revision == current:
        return Standing.CURRENT
    if revision in known or all(part in known for part in revision.split("+")):
        return Standing.STALE
    return Standing.DIFFERENT


def is_silent(last_reported_at: datetime, now: datetime) -> bool:
    return now - last_reported_at > REPORTING_WINDOW


def halt_confirmed(reported: Iterable[str], forbid_all: str) -> bool:
    """Every reporting gateway enforces the suspension's forbid-all revision."""
    return all(revision == forbid_all for revision in reported)
