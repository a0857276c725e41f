"""Answers and agents for the four reference cases of the seeded questionnaire."""

from almportal.inventory.choices import (
    ActionReach,
    Audience,
    AutonomyLevel,
    DataClassification,
    RegulatedDomain,
    Stage,
)
from almportal.risk import services

from ..factories import make_agent

FAQ_ANSWERS = {
    "data_sensitivity": "internal", "autonomy": "suggest_only", "action_reach": "read_only",
    "regulated_domain": "none", "audience": "internal", "scale": "medium", "tool_access": "none",
    "model_hosting": "vendor_no_retention", "human_oversight": "every_output",
    "prohibited_practices": "none",
}

HR_AGENT = {"name": "HR records assistant", "data_classification": DataClassification.RESTRICTED,
            "autonomy_level": AutonomyLevel.HUMAN_APPROVES,
            "action_reach": ActionReach.WRITES_INTERNAL, "regulated_domain": RegulatedDomain.HR}
HR_ANSWERS = {**FAQ_ANSWERS, "data_sensitivity": "restricted", "autonomy": "human_approves",
              "action_reach": "writes_internal", "regulated_domain": "hr",
              "tool_access": "writes_approved", "human_oversight": "consequential"}

MONEY_AGENT = {"name": "Payments agent", "data_classification": DataClassification.CONFIDENTIAL,
               "autonomy_level": AutonomyLevel.FULLY_AUTONOMOUS,
               "action_reach": ActionReach.MOVES_MONEY_OR_ACCESS,
               "regulated_domain": RegulatedDomain.FINANCE, "audience": Audience.CUSTOMERS}
MONEY_ANSWERS = {**FAQ_ANSWERS, "data_sensitivity": "confidential",
                 "autonomy": "fully_autonomous", "action_reach": "moves_money_or_access",
                 "regulated_domain": "finance", "audience": "customers",
                 "tool_access": "writes_unapproved", "human_oversight": "none"}

SCORING_ANSWERS = {**FAQ_ANSWERS, "prohibited_practices": "social_scoring"}


def assessed(owner, assessor, *, stage=Stage.DRAFT, answers=None, agent=None, tier="",
             justification="", **agent_fields):
    """An agent (made, or given) with a completed assessment."""
    agent = agent or make_agent(owner, stage, **agent_fields)
    draft = services.assessment_draft(actor=owner, agent=agent, answers=answers or FAQ_ANSWERS)
    return services.assessment_complete(actor=assessor, assessment=draft, tier=tier,
                                        justification=justification)
