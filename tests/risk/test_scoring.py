import pytest

from almportal.core.errors import DomainError
from almportal.inventory.choices import RiskTier
from almportal.risk import rules, selectors, services
from almportal.risk.models import Assessment

from ..factories import make_agent
from .helpers import (
    FAQ_ANSWERS,
    HR_AGENT,
    HR_ANSWERS,
    MONEY_AGENT,
    MONEY_ANSWERS,
    SCORING_ANSWERS,
    assessed,
)

pytestmark = pytest.mark.django_db


def test_it_rates_a_read_only_internal_faq_agent_low(owner, compliance):
    assessment = assessed(owner, compliance, answers=FAQ_ANSWERS)
    assert assessment.tier == assessment.computed_tier == RiskTier.LOW
    assert assessment.agent.risk_tier == RiskTier.LOW
    assessment.agent.refresh_from_db()
    assert assessment.agent.risk_tier == RiskTier.LOW


def test_it_rates_an_hr_agent_that_writes_employee_records_high(owner, compliance):
    assessment = assessed(owner, compliance, answers=HR_ANSWERS, **HR_AGENT)
    assert assessment.computed_tier == RiskTier.HIGH
    decisive = [d for d in assessment.drivers if d["decisive"]]
    assert any(d.get("question") == "regulated_domain" for d in decisive)


def test_it_rates_an_agent_moving_money_without_approval_critical(owner, compliance):
    assessment = assessed(owner, compliance, answers=MONEY_ANSWERS, **MONEY_AGENT)
    assert assessment.computed_tier == RiskTier.CRITICAL
    explanations = [d.get("explanation", "") for d in assessment.drivers if d["decisive"]]
    assert any("no human in the loop" in e for e in explanations)


def test_a_combination_forces_a_minimum_tier_whatever_the_score(owner, compliance):
    answers = {**FAQ_ANSWERS, "action_reach": "moves_money_or_access",
               "autonomy": "within_limits"}
    questionnaire = selectors.current_questionnaire()
    result = rules.compute_result(questionnaire, answers)
    assert result.score < questionnaire.tier_thresholds["high"]
    assert result.computed_tier == RiskTier.HIGH


def test_it_rates_a_social_scoring_agent_unacceptable(owner, compliance):
    assessment = assessed(owner, compliance, answers=SCORING_ANSWERS)
    assert assessment.tier == RiskTier.UNACCEPTABLE
    assert any(d.get("prohibited") for d in assessment.drivers)


def test_it_prefills_answers_from_the_agent_record(owner):
    agent = make_agent(owner, **HR_AGENT)
    draft = services.assessment_draft(actor=owner, agent=agent)
    assert draft.answers["regulated_domain"] == "hr"
    assert draft.answers["data_sensitivity"] == "restricted"
    assert draft.answers["action_reach"] == "writes_internal"
    assert "human_oversight" not in draft.answers


def test_it_records_the_questionnaire_version(owner, compliance):
    assessment = assessed(owner, compliance)
    assert assessment.questionnaire.version == 1


def test_it_requires_every_answer_to_complete(owner, compliance):
    agent = make_agent(owner)
    draft = services.assessment_draft(actor=owner, agent=agent, answers={})
    with pytest.raises(DomainError) as exc:
        services.assessment_complete(actor=compliance, assessment=draft)
    assert "human_oversight" in exc.value.errors
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_it_rejects_unknown_answers_and_writes_nothing(owner):
    agent = make_agent(owner)
    with pytest.raises(DomainError) as exc:
        services.assessment_draft(actor=owner, agent=agent, answers={"autonomy": "sometimes"})
    assert "autonomy" in exc.value.errors
    assert not Assessment.objects.exists()


def test_the_tier_can_be_raised_with_a_justification(owner, compliance):
    assessment = assessed(owner, compliance, tier=RiskTier.HIGH,
                          justification="Pilot with the works council: treat as high.")
    assert (assessment.computed_tier, assessment.tier) == (RiskTier.LOW, RiskTier.HIGH)
    assessment.agent.refresh_from_db()
    assert assessment.agent.risk_tier == RiskTier.HIGH
    row = assessment.history.first()
    assert (row.computed_tier, row.tier, row.history_user) == (RiskTier.LOW, RiskTier.HIGH,
                                                               compliance)
    assert "works council" in row.history_change_reason


def test_raising_needs_a_justification(owner, compliance):
    agent = make_agent(owner)
    draft = services.assessment_draft(actor=owner, agent=agent, answers=FAQ_ANSWERS)
    with pytest.raises(DomainError) as exc:
        services.assessment_complete(actor=compliance, assessment=draft, tier=RiskTier.HIGH)
    assert "justification" in exc.value.errors
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_the_tier_is_never_lowered_below_the_computed_one(owner, compliance):
    agent = make_agent(owner, **HR_AGENT)
    draft = services.assessment_draft(actor=owner, agent=agent, answers=HR_ANSWERS)
    with pytest.raises(DomainError) as exc:
        services.assessment_complete(actor=compliance, assessment=draft, tier=RiskTier.MEDIUM,
                                     justification="Feels fine")
    assert "tier" in exc.value.errors
    assessment = services.assessment_complete(actor=compliance, assessment=draft)
    with pytest.raises(DomainError):
        services.assessment_set_tier(actor=compliance, assessment=assessment,
                                     tier=RiskTier.LOW, justification="Please")
    assessment.refresh_from_db()
    assert assessment.tier == RiskTier.HIGH


def test_a_completed_tier_is_raised_later_and_both_are_in_history(owner, compliance):
    assessment = assessed(owner, compliance)
    services.assessment_set_tier(actor=compliance, assessment=assessment,
                                 tier=RiskTier.MEDIUM, justification="Customer pilot next month")
    assessment.refresh_from_db()
    assert (assessment.computed_tier, assessment.tier) == (RiskTier.LOW, RiskTier.MEDIUM)
    tiers = [row.tier for row in assessment.history.order_by("history_id")]
    assert tiers[-2:] == [RiskTier.LOW, RiskTier.MEDIUM]
    assert "Customer pilot" in assessment.history.first().history_change_reason
    assessment.agent.refresh_from_db()
    assert assessment.agent.risk_tier == RiskTier.MEDIUM
