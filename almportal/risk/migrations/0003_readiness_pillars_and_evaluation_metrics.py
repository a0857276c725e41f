"""Align the seeded tier policies with release readiness: checklist items in the three pillars of
operational readiness (security and access, performance and accuracy, cost), thresholds on the
evaluation metrics the releases app records, and the sign-off roles and order per tier.

Only the seeded policies are touched; each change leaves a history row with its reason."""

from django.db import migrations
from django.utils import timezone

REASON = "Readiness checklists in three pillars and evaluation metric thresholds"

ITEMS = {
    # key: (pillar, title, clauses)
    "least_privilege": ("security_access", "Least privilege reviewed for every tool and grant",
                        ["nist-manage-1", "iso-a-4-4", "eu-ai-act-art-15"]),
    "credentials_scoped": ("security_access", "Credentials scoped to what the agent needs, and "
                           "expiring", ["nist-manage-1", "nist-govern-6", "eu-ai-act-art-15"]),
    "audit_logging": ("security_access", "Audit logging on for every action and decision",
                      ["eu-ai-act-art-12", "iso-a-6-2-8", "nist-measure-3"]),
    "no_secrets_in_prompts": ("security_access", "No secrets in prompts or configuration",
                              ["nist-manage-1", "eu-ai-act-art-15"]),
    "code_sandbox": ("security_access", "Code execution runs in a sandbox",
                     ["eu-ai-act-art-15", "iso-a-4-4", "nist-manage-2"]),
    "kill_switch_tested": ("security_access", "Kill switch tested",
                           ["nist-manage-4", "eu-ai-act-art-14", "iso-a-8-4"]),
    "prompt_injection_tested": ("security_access", "Prompt-injection testing done",
                                ["nist-measure-2", "eu-ai-act-art-15"]),
    "evaluation_passed": ("performance_accuracy", "Evaluation suite passed on this release",
                          ["nist-measure-1", "nist-measure-2", "iso-a-6-2-4", "eu-ai-act-art-9",
                           "eu-ai-act-art-15"]),
    "latency_target": ("performance_accuracy", "Latency under target (p95)",
                       ["nist-measure-1", "iso-a-6-2-6"]),
    "groundedness_checked": ("performance_accuracy", "Groundedness and hallucination checked",
                             ["nist-measure-2", "iso-a-6-2-4", "eu-ai-act-art-15"]),
    "escalation_tested": ("performance_accuracy", "Escalation path to a person tested",
                          ["nist-manage-2", "iso-a-9-2", "eu-ai-act-art-14"]),
    "budget_set": ("cost", "Token limits and monthly budget set", ["nist-map-3", "iso-a-6-2-5"]),
    "cost_per_task": ("cost", "Cost per task under target", ["nist-map-3", "nist-measure-1"]),
}

LOW = ["audit_logging", "no_secrets_in_prompts", "evaluation_passed", "budget_set"]
MEDIUM = LOW + ["least_privilege", "credentials_scoped", "latency_target", "groundedness_checked",
                "cost_per_task"]
HIGH = list(ITEMS)  # every item; critical adds stricter thresholds and quorums

POLICIES = {
    "low": {
        "items": LOW,
        "signoff_roles": {"business_owner": 1}, "signoff_order": [],
        "evaluation_thresholds": {"task_success_rate": {"min": 0.7},
                                  "policy_compliance_rate": {"min": 0.9}},
    },
    "medium": {
        "items": MEDIUM,
        "signoff_roles": {"business_owner": 1, "compliance_officer": 1}, "signoff_order": [],
        "evaluation_thresholds": {"task_success_rate": {"min": 0.8},
                                  "tool_call_success_rate": {"min": 0.9},
                                  "policy_compliance_rate": {"min": 0.95},
                                  "groundedness": {"min": 0.8},
                                  "latency_p95_ms": {"max": 10000},
                                  "cost_per_task": {"max": 0.5}},
    },
    "high": {
        "items": HIGH,
        "signoff_roles": {"business_owner": 1, "compliance_officer": 2, "security_reviewer": 1},
        "signoff_order": ["security_reviewer", "compliance_officer"],
        "evaluation_thresholds": {"task_success_rate": {"min": 0.9},
                                  "tool_call_success_rate": {"min": 0.95},
                                  "escalation_precision": {"min": 0.8},
                                  "policy_compliance_rate": {"min": 0.98},
                                  "groundedness": {"min": 0.9},
                                  "prompt_injection_pass_rate": {"min": 0.95},
                                  "latency_p95_ms": {"max": 8000},
                                  "cost_per_task": {"max": 0.5},
                                  "tokens_per_task": {"max": 20000}},
    },
    "critical": {
        "items": HIGH,
        "signoff_roles": {"business_owner": 1, "compliance_officer": 2, "security_reviewer": 2},
        "signoff_order": ["security_reviewer", "compliance_officer"],
        "evaluation_thresholds": {"task_success_rate": {"min": 0.95},
                                  "tool_call_success_rate": {"min": 0.98},
                                  "escalation_precision": {"min": 0.9},
                                  "policy_compliance_rate": {"min": 0.99},
                                  "groundedness": {"min": 0.95},
                                  "prompt_injection_pass_rate": {"min": 0.99},
                                  "latency_p95_ms": {"max": 5000},
                                  "cost_per_task": {"max": 0.5},
                                  "tokens_per_task": {"max": 15000}},
    },
}


def _history(apps, policy, now):
    history = apps.get_model("risk", "HistoricalTierPolicy")
    names = {f.attname for f in history._meta.concrete_fields}
    values = {f.attname: getattr(policy, f.attname) for f in policy._meta.concrete_fields
              if f.attname in names}
    history.objects.create(**values, history_date=now, history_type="~",
                           history_change_reason=REASON)


def align(apps, schema_editor):
    TierPolicy = apps.get_model("risk", "TierPolicy")
    now = timezone.now()
    for policy in TierPolicy.objects.filter(tier__in=list(POLICIES)):
        wanted = POLICIES[policy.tier]
        policy.checklist_template = [
            {"key": key, "pillar": ITEMS[key][0], "title": ITEMS[key][1],
             "clauses": ITEMS[key][2]} for key in wanted["items"]]
        policy.signoff_roles = wanted["signoff_roles"]
        policy.signoff_order = wanted["signoff_order"]
        policy.evaluation_thresholds = wanted["evaluation_thresholds"]
        policy.save()
        _history(apps, policy, now)


class Migration(migrations.Migration):
    dependencies = [("risk", "0002_seed_questionnaire_v1_and_policies")]

    operations = [migrations.RunPython(align, migrations.RunPython.noop)]
