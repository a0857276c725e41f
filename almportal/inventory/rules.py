"""Who may hold which grant on an agent: one decision, asked by the delegate and ownership
services, the service-account grants, and the admin's object-permission page.

A read-only role (auditors) reads every agent and is never a delegate nor holds any write
grant. A service account (CI, a gateway) holds only narrow rights on the agents chosen for it,
never the owner's `change_agent`."""

from collections.abc import Iterable

from ..accounts.roles import is_read_only
from ..core.errors import DomainError

READ_GRANTS = {"view_agent"}

# The narrow rights a service account may hold on an agent, by permission codename.
SERVICE_RIGHTS = {
    "record_evaluations": "Record evaluation runs (CI)",
    "deploy_agent": "Deploy releases (CI/CD)",
    "poll_runtime": "Poll the runtime status (gateway)",
    "ingest_metrics": "Send monitoring samples (gateway)",
}


def grant_refusal(user, codenames: Iterable[str]) -> DomainError | None:
    """Why `user` may not hold these agent permissions, or None."""
    writes = set(codenames) - READ_GRANTS
    if not user.is_active:
        return DomainError(f"{user} is not active: grants go to active accounts.", field="user")
    if writes and is_read_only(user):
        return DomainError(f"{user} holds a read-only role (auditor): they read every agent "
                           "but are never a delegate nor hold any write grant.", field="user")
    if user.is_service_account and writes - set(SERVICE_RIGHTS):
        return DomainError(f"{user} is a service account: it holds only narrow rights ("
                           f"{', '.join(SERVICE_RIGHTS)}), never a delegate's.", field="user")
    if not user.is_service_account and writes & set(SERVICE_RIGHTS):
        return DomainError("Narrow rights are granted to service accounts only.", field="user")
    return None
