"""Demo risk registers and impact assessments, made through risk.register as people would:
risks with treatments, residual risk accepted by an accountable person, and a signed impact
assessment. Idempotent: an agent whose register holds anything is left as it is."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from almportal.accounts.models import User
from almportal.inventory.choices import CLOSED_STAGES
from almportal.inventory.models import Agent
from almportal.risk import register

# slug -> who records (a username), its risks (each with treatments and who accepts), the
# impact assessment and who signs it.
REGISTERS: dict[str, dict] = {
    "it-helpdesk-triage": {
        "recorder": "owner",
        "risks": [
            {"title": "Ticket routed to the wrong resolver group",
             "description": "A misrouted outage ticket waits in the wrong queue.",
             "likelihood": 3, "impact": 2,
             "treatments": [{"kind": "mitigate", "status": "done",
                             "description": "Low-confidence routes go to the service desk.",
                             "residual_likelihood": 2, "residual_impact": 2}],
             "accepted_by": "owner",
             "statement": "Low residual risk: the service desk catches the rest."},
            {"title": "Personal data in ticket text reaches the model provider",
             "likelihood": 2, "impact": 4,
             "treatments": [{"kind": "transfer", "status": "planned", "due_in_days": 30,
                             "description": "Zero-retention terms in the provider contract.",
                             "residual_likelihood": 1, "residual_impact": 4}]},
            {"title": "Knowledge-base search suggests an outdated workaround",
             "likelihood": 3, "impact": 3, "treatments": []},
        ],
        "impact": {"signed_by": "compliance", "data": {
            "affected_people": "About 4,000 staff raising IT tickets.",
            "affected_groups": "Staff with accessibility needs using assistive technology.",
            "fundamental_rights_risks": "Delay to help for a person who depends on a device "
                                        "that failed; ticket text holding health details.",
            "mitigations": "Urgent and accessibility tickets skip triage; text is masked.",
            "oversight_measures": "Agents see the suggested route and can override it; "
                                  "weekly sample review by the service desk lead."}},
    },
    "customer-support-assistant": {
        "recorder": "owner2",
        "risks": [
            {"title": "A refund is promised without authority",
             "likelihood": 4, "impact": 4,
             "treatments": [{"kind": "mitigate", "status": "done",
                             "description": "Refund wording needs a human approval step.",
                             "residual_likelihood": 3, "residual_impact": 4}],
             "accepted_by": "compliance2",
             "statement": "High residual risk accepted while the agent stays suspended and "
                          "refunds above 50 EUR are reviewed by a person."},
        ],
        "impact": {"signed_by": "compliance", "data": {
            "affected_people": "Customers contacting support by chat, about 30,000 a month.",
            "affected_groups": "Customers in payment difficulty; minors using a parent's "
                               "account.",
            "fundamental_rights_risks": "Unfair treatment in refunds; personal data disclosed "
                                        "to the wrong customer.",
            "mitigations": "Refunds and account changes need a person; complaints reach a "
                           "named team within a day.",
            "oversight_measures": "Hand-over to a person on request at any time; the kill "
                                  "switch is held by the support lead."}},
    },
    "meeting-notes-summariser": {  # filled while it was live (lifetime.py)
        "recorder": "owner2",
        "risks": [
            {"title": "A summary credits a decision or action to the wrong person",
             "description": "An action item lands with someone who never agreed to it.",
             "likelihood": 3, "impact": 2,
             "treatments": [{"kind": "mitigate", "status": "done",
                             "description": "Summaries are drafts the organiser edits before "
                                            "sharing them.",
                             "residual_likelihood": 2, "residual_impact": 2}],
             "accepted_by": "owner2",
             "statement": "Low residual risk: no summary is shared unread."},
            {"title": "Confidential discussion reaches the model provider",
             "likelihood": 2, "impact": 3,
             "treatments": [{"kind": "transfer", "status": "done",
                             "description": "Zero data retention agreement with the provider.",
                             "residual_likelihood": 1, "residual_impact": 3}]},
        ],
        "impact": {"signed_by": "compliance", "data": {
            "affected_people": "About 300 team leads and everyone who speaks in their recorded "
                               "meetings.",
            "affected_groups": "Staff who are not native speakers, whose words transcripts garble "
                               "more often.",
            "fundamental_rights_risks": "Private remarks made in a meeting kept in writing; a "
                                        "decision credited to the wrong person.",
            "mitigations": "Only meetings whose organiser asks are summarised; summaries are "
                           "drafts until the organiser shares them.",
            "oversight_measures": "The organiser reads and edits every summary; a security "
                                  "reviewer trained in the kill-switch drill may halt "
                                  "the agent."}},
    },
}


def seed_registers(users: dict[str, User]) -> list[str]:
    """Fill the registers that are empty; return the agents' names. A retired agent's register
    is kept as it stands (its own was filled while it was live)."""
    done = []
    for slug, spec in REGISTERS.items():
        agent = Agent.objects.exclude(stage__in=CLOSED_STAGES).filter(slug=slug).first()
        if agent is None or agent.risk_entries.exists() or agent.impact_assessments.exists():
            continue
        with transaction.atomic():
            fill_register(agent, spec, users)
        done.append(agent.name)
    return done


def fill_register(agent: Agent, spec: dict, users: dict[str, User]) -> None:
    """Record the spec's risks and sign its impact assessment."""
    recorder = users[spec["recorder"]]
    for risk in spec["risks"]:
        _add_risk(agent, risk, users, recorder=recorder)
    _add_impact(agent, spec["impact"], users, drafter=recorder)


def _add_risk(agent: Agent, spec: dict, users: dict[str, User], *, recorder: User) -> None:
    data = {k: spec[k] for k in ("title", "likelihood", "impact")}
    data["description"] = spec.get("description", "")
    entry = register.risk_entry_create(actor=recorder, agent=agent, data=data,
                                       reason="Demo data: risk workshop")
    for treatment in spec["treatments"]:
        treatment = dict(treatment)
        if "due_in_days" in treatment:
            days = treatment.pop("due_in_days")
            treatment["due_date"] = timezone.localdate() + timedelta(days=days)
        register.treatment_create(actor=recorder, entry=entry, data=treatment,
                                  reason="Demo data: treatment agreed")
    if "accepted_by" in spec:
        register.acceptance_sign(actor=users[spec["accepted_by"]], entry=entry,
                                 statement=spec["statement"])


def _add_impact(agent: Agent, spec: dict, users: dict[str, User], *, drafter: User) -> None:
    version, _ = register.impact_assessment_save(actor=drafter, agent=agent, data=spec["data"],
                                                 reason="Demo data: impact assessment drafted")
    register.impact_assessment_sign(actor=users[spec["signed_by"]], assessment=version)
