"""Seed the framework clauses, questionnaire version 1 and the five tier policies.

The data is frozen here, as it was on the day it was seeded: later changes are made by admins
(a new questionnaire version, edited policies) and are recorded in history."""

from django.db import migrations
from django.utils import timezone

SEED_REASON = "Seeded: questionnaire v1 and default tier policies"

CLAUSES = [
    # (code, framework, ref, title)
    ("nist-govern-1", "nist_ai_rmf", "GOVERN 1", "Policies, processes, procedures and practices "
     "for mapping, measuring and managing AI risks are in place, transparent and implemented "
     "effectively (incl. legal requirements, inventory and decommissioning)."),
    ("nist-govern-2", "nist_ai_rmf", "GOVERN 2", "Accountability structures are in place so that "
     "the appropriate teams and individuals are empowered, responsible and trained."),
    ("nist-govern-4", "nist_ai_rmf", "GOVERN 4", "Organizational teams are committed to a culture "
     "that considers and communicates AI risk."),
    ("nist-govern-6", "nist_ai_rmf", "GOVERN 6", "Policies and procedures address AI risks and "
     "benefits arising from third-party software, data and other supply chain issues."),
    ("nist-map-1", "nist_ai_rmf", "MAP 1", "Context is established and understood."),
    ("nist-map-2", "nist_ai_rmf", "MAP 2", "Categorization of the AI system is performed."),
    ("nist-map-3", "nist_ai_rmf", "MAP 3", "AI capabilities, targeted usage, goals, and expected "
     "benefits and costs compared with appropriate benchmarks are understood."),
    ("nist-map-4", "nist_ai_rmf", "MAP 4", "Risks and benefits are mapped for all components of "
     "the AI system including third-party software and data."),
    ("nist-map-5", "nist_ai_rmf", "MAP 5", "Impacts to individuals, groups, communities, "
     "organizations and society are characterized."),
    ("nist-measure-1", "nist_ai_rmf", "MEASURE 1", "Appropriate methods and metrics are "
     "identified and applied."),
    ("nist-measure-2", "nist_ai_rmf", "MEASURE 2", "AI systems are evaluated for trustworthy "
     "characteristics."),
    ("nist-measure-3", "nist_ai_rmf", "MEASURE 3", "Mechanisms for tracking identified AI risks "
     "over time are in place."),
    ("nist-manage-1", "nist_ai_rmf", "MANAGE 1", "AI risks based on assessments and other "
     "analytical output are prioritized, responded to and managed."),
    ("nist-manage-2", "nist_ai_rmf", "MANAGE 2", "Strategies to maximize AI benefits and minimize "
     "negative impacts are planned, prepared, implemented and documented."),
    ("nist-manage-3", "nist_ai_rmf", "MANAGE 3", "AI risks and benefits from third-party entities "
     "are managed."),
    ("nist-manage-4", "nist_ai_rmf", "MANAGE 4", "Risk treatments, including response and "
     "recovery, and communication plans are documented and monitored regularly."),
    ("iso-a-2-2", "iso_42001", "A.2.2", "AI policy"),
    ("iso-a-3-2", "iso_42001", "A.3.2", "AI roles and responsibilities"),
    ("iso-a-4-3", "iso_42001", "A.4.3", "Data resources"),
    ("iso-a-4-4", "iso_42001", "A.4.4", "Tooling resources"),
    ("iso-a-5-2", "iso_42001", "A.5.2", "AI system impact assessment process"),
    ("iso-a-5-3", "iso_42001", "A.5.3", "Documentation of AI system impact assessments"),
    ("iso-a-5-4", "iso_42001", "A.5.4", "Assessing AI system impact on individuals or groups "
     "of individuals"),
    ("iso-a-5-5", "iso_42001", "A.5.5", "Assessing societal impacts of AI systems"),
    ("iso-a-6-2-4", "iso_42001", "A.6.2.4", "AI system verification and validation"),
    ("iso-a-6-2-5", "iso_42001", "A.6.2.5", "AI system deployment"),
    ("iso-a-6-2-6", "iso_42001", "A.6.2.6", "AI system operation and monitoring"),
    ("iso-a-6-2-7", "iso_42001", "A.6.2.7", "AI system technical documentation"),
    ("iso-a-6-2-8", "iso_42001", "A.6.2.8", "AI system recording of event logs"),
    ("iso-a-8-4", "iso_42001", "A.8.4", "Communication of incidents"),
    ("iso-a-9-2", "iso_42001", "A.9.2", "Processes for responsible use of AI systems"),
    ("iso-a-9-4", "iso_42001", "A.9.4", "Intended use of the AI system"),
    ("iso-a-10-2", "iso_42001", "A.10.2", "Allocating responsibilities"),
    ("iso-a-10-3", "iso_42001", "A.10.3", "Suppliers"),
    ("eu-ai-act-art-5", "eu_ai_act", "Art. 5", "Prohibited AI practices"),
    ("eu-ai-act-art-6", "eu_ai_act", "Art. 6", "Classification rules for high-risk AI systems "
     "(Annex III areas)"),
    ("eu-ai-act-art-9", "eu_ai_act", "Art. 9", "Risk management system"),
    ("eu-ai-act-art-10", "eu_ai_act", "Art. 10", "Data and data governance"),
    ("eu-ai-act-art-12", "eu_ai_act", "Art. 12", "Record-keeping"),
    ("eu-ai-act-art-14", "eu_ai_act", "Art. 14", "Human oversight"),
    ("eu-ai-act-art-15", "eu_ai_act", "Art. 15", "Accuracy, robustness and cybersecurity"),
    ("eu-ai-act-art-26", "eu_ai_act", "Art. 26", "Obligations of deployers of high-risk AI "
     "systems"),
    ("eu-ai-act-art-27", "eu_ai_act", "Art. 27", "Fundamental rights impact assessment"),
    ("eu-ai-act-art-50", "eu_ai_act", "Art. 50", "Transparency obligations for systems that "
     "interact with people"),
    ("eu-ai-act-art-72", "eu_ai_act", "Art. 72", "Post-market monitoring"),
    ("eu-ai-act-art-73", "eu_ai_act", "Art. 73", "Reporting of serious incidents"),
]

TIER_THRESHOLDS = {"medium": 12, "high": 25, "critical": 45}

REGULATED = ["hr", "finance", "health", "legal", "education", "critical_infrastructure",
             "law_enforcement"]
RULES = [
    {"when": {"action_reach": ["moves_money_or_access"],
              "autonomy": ["within_limits", "fully_autonomous"]},
     "minimum_tier": "high",
     "explanation": "Moves money or changes access without a human approving each action."},
    {"when": {"action_reach": ["moves_money_or_access"], "human_oversight": ["none"]},
     "minimum_tier": "critical",
     "explanation": "Moves money or changes access with no human in the loop."},
    {"when": {"regulated_domain": REGULATED, "autonomy": ["fully_autonomous"]},
     "minimum_tier": "critical",
     "explanation": "Acts fully autonomously in a regulated domain."},
    {"when": {"tool_access": ["code_execution"], "audience": ["public"]},
     "minimum_tier": "high",
     "explanation": "Executes code on behalf of the public."},
]

# (key, topic, prefill, text, help, clauses, options)
# option: (key, label, weight, minimum_tier, prohibited, prefill_value)
QUESTIONS = [
    ("data_sensitivity", "data_sensitivity", "data_classification",
     "What is the most sensitive data the agent reads or produces?",
     "Count the data in prompts, retrieved documents, tool results and outputs.",
     ["nist-map-4", "iso-a-4-3", "eu-ai-act-art-10"], [
         ("public", "Public information", 0, "", False, "public"),
         ("internal", "Internal information", 2, "", False, "internal"),
         ("confidential", "Confidential business information", 6, "", False, "confidential"),
         ("restricted", "Restricted or personal data (employees, customers, patients)", 10,
          "medium", False, "restricted"),
     ]),
    ("autonomy", "autonomy", "autonomy_level",
     "How much does the agent decide on its own?", "",
     ["nist-map-3", "iso-a-9-4", "eu-ai-act-art-14"], [
         ("suggest_only", "It only suggests; a person acts", 0, "", False, "suggest_only"),
         ("human_approves", "It acts only after a person approves each action", 2, "", False,
          "human_approves"),
         ("within_limits", "It acts on its own within set limits", 6, "", False,
          "within_limits"),
         ("fully_autonomous", "It acts on its own, without per-action limits", 10, "medium",
          False, "fully_autonomous"),
     ]),
    ("action_reach", "action_reach", "action_reach",
     "What can the agent change or trigger?", "",
     ["nist-map-5", "iso-a-5-4", "eu-ai-act-art-9"], [
         ("read_only", "Nothing: it only reads", 0, "", False, "read_only"),
         ("writes_internal", "It writes internal records", 6, "", False, "writes_internal"),
         ("external_communications", "It communicates externally (email, messages, posts)", 8,
          "medium", False, "external_communications"),
         ("moves_money_or_access", "It moves money or changes access rights", 12, "medium",
          False, "moves_money_or_access"),
     ]),
    ("regulated_domain", "regulated_domain", "regulated_domain",
     "Does the agent work in a regulated domain?",
     "Employment, credit, health, education, critical infrastructure and public services are "
     "high-risk areas under the EU AI Act (Annex III).",
     ["nist-govern-1", "nist-map-1", "iso-a-5-2", "eu-ai-act-art-6"], [
         ("none", "No", 0, "", False, "none"),
         ("hr", "Employment and HR (hiring, evaluation, employee records)", 10, "high", False,
          "hr"),
         ("finance", "Finance and credit", 8, "medium", False, "finance"),
         ("health", "Health", 10, "high", False, "health"),
         ("legal", "Legal", 8, "medium", False, "legal"),
         ("education", "Education", 8, "high", False, "education"),
         ("critical_infrastructure", "Critical infrastructure", 12, "high", False,
          "critical_infrastructure"),
         ("law_enforcement", "Law enforcement or access to public services", 12, "high", False,
          "law_enforcement"),
     ]),
    ("audience", "audience", "audience",
     "Who interacts with the agent or receives its output?", "",
     ["nist-map-5", "iso-a-5-5", "eu-ai-act-art-50"], [
         ("internal", "Internal staff", 0, "", False, "internal"),
         ("customers", "Customers", 4, "", False, "customers"),
         ("public", "The public", 6, "", False, "public"),
     ]),
    ("scale", "scale", "",
     "How many people does it serve, and at what volume?", "",
     ["nist-map-1", "iso-a-5-5"], [
         ("small", "Fewer than 100 people, or under 1,000 requests a month", 0, "", False, ""),
         ("medium", "Up to 10,000 people, or up to 100,000 requests a month", 2, "", False, ""),
         ("large", "More than 10,000 people, or more than 100,000 requests a month", 4, "",
          False, ""),
     ]),
    ("tool_access", "tool_access", "tools",
     "Which tools can the agent call?", "",
     ["nist-map-4", "iso-a-4-4", "eu-ai-act-art-15"], [
         ("none", "None, or read-only tools", 0, "", False, "none"),
         ("writes_approved", "Write tools, each call approved by a person", 3, "", False,
          "writes_approved"),
         ("writes_unapproved", "Write tools called without per-call approval", 6, "", False,
          "writes_unapproved"),
         ("code_execution", "Code execution", 8, "medium", False, "code_execution"),
     ]),
    ("model_hosting", "model_hosting", "models",
     "Where does the model run, and what does the vendor keep?", "",
     ["nist-govern-6", "nist-manage-3", "iso-a-10-3"], [
         ("self_hosted", "Self-hosted: no data leaves our infrastructure", 0, "", False,
          "self_hosted"),
         ("vendor_no_retention", "Vendor API with zero retention and no training on our data",
          1, "", False, ""),
         ("vendor_retention", "Vendor API that retains prompts or outputs, or may train on them",
          5, "", False, "vendor_api"),
     ]),
    ("human_oversight", "human_oversight", "",
     "What human oversight is there while it runs?", "",
     ["nist-manage-2", "iso-a-9-2", "eu-ai-act-art-14", "eu-ai-act-art-26"], [
         ("every_output", "A person reviews every output before it is used", 0, "", False, ""),
         ("consequential", "A person approves consequential actions; others are sampled", 3, "",
          False, ""),
         ("after_the_fact", "People review logs and samples after the fact", 6, "", False, ""),
         ("none", "No human in the loop", 10, "medium", False, ""),
     ]),
    ("prohibited_practices", "prohibited_practices", "",
     "Does the agent do any of these (EU AI Act Article 5)?",
     "Any of these is a prohibited practice: the agent cannot be accepted or released.",
     ["eu-ai-act-art-5", "nist-govern-1", "iso-a-2-2"], [
         ("none", "None of these", 0, "", False, ""),
         ("social_scoring", "Scores people on their social behaviour or personal traits, "
          "leading to unfavourable treatment (social scoring)", 0, "", True, ""),
         ("manipulation", "Uses subliminal, manipulative or deceptive techniques, or exploits "
          "vulnerabilities, to distort people's behaviour", 0, "", True, ""),
         ("emotion_recognition", "Infers the emotions of people at work or in education", 0,
          "", True, ""),
         ("biometric_categorisation", "Categorises people by biometrics to infer race, "
          "political opinions, beliefs or sexual orientation", 0, "", True, ""),
         ("predictive_policing", "Predicts a person's risk of committing a crime from "
          "profiling alone", 0, "", True, ""),
         ("facial_scraping", "Builds facial recognition databases by untargeted scraping", 0,
          "", True, ""),
     ]),
]

CHECKLIST_ITEMS = {
    "owner_and_kpis": ("accountability", "Business and technical owners named; KPIs with "
                       "targets agreed", ["nist-govern-2", "iso-a-3-2", "iso-a-10-2"]),
    "versioned_release": ("versioning", "Release manifest pins the model version, prompts, "
                          "tools and data sources", ["nist-map-4", "iso-a-6-2-7"]),
    "basic_monitoring": ("observability", "Usage and error rate monitored, with an alert "
                         "owner", ["nist-measure-3", "iso-a-6-2-6", "eu-ai-act-art-72"]),
    "access_control": ("access_control", "Credentials scoped to least privilege; access "
                       "reviewed on the tier's schedule", ["nist-manage-1", "eu-ai-act-art-15"]),
    "human_approval": ("human_oversight", "Human approval path for consequential actions, "
                       "with override and stop", ["nist-manage-2", "iso-a-9-2",
                                                  "eu-ai-act-art-14", "eu-ai-act-art-26"]),
    "evaluation": ("evaluation", "Evaluation on a representative test set meets the tier's "
                   "thresholds", ["nist-measure-1", "nist-measure-2", "iso-a-6-2-4",
                                  "eu-ai-act-art-9", "eu-ai-act-art-15"]),
    "audit_trail": ("audit", "Every action and decision logged and kept (at least six "
                    "months)", ["eu-ai-act-art-12", "iso-a-6-2-8", "nist-measure-3"]),
    "observability": ("observability", "Dashboards for latency, cost, escalations and "
                      "tool-call failures, with alert thresholds",
                      ["nist-measure-3", "iso-a-6-2-6", "eu-ai-act-art-72"]),
    "incident_response": ("incident_response", "Incident runbook and on-call in place; kill "
                          "switch tested", ["nist-manage-4", "iso-a-8-4", "eu-ai-act-art-73"]),
    "decommissioning": ("decommissioning", "Decommissioning plan: data, credentials and "
                        "dependants", ["nist-govern-1", "nist-manage-2"]),
    "impact_assessment": ("accountability", "Impact assessment on people affected "
                          "documented", ["nist-map-5", "iso-a-5-3", "eu-ai-act-art-27"]),
    "deployer_duties": ("accountability", "Deployer duties met: used as instructed, staff "
                        "informed, logs kept", ["eu-ai-act-art-26", "iso-a-9-4"]),
    "red_team": ("evaluation", "Adversarial testing (prompt injection, tool misuse) passed "
                 "before release", ["nist-measure-2", "eu-ai-act-art-15"]),
}

_HIGH_ITEMS = ["owner_and_kpis", "versioned_release", "access_control", "human_approval",
               "evaluation", "audit_trail", "observability", "incident_response",
               "decommissioning", "impact_assessment", "deployer_duties"]
_SIGN_ORDER = ["security_reviewer", "compliance_officer", "business_owner"]

POLICIES = [
    {"tier": "low",
     "description": "Basic monitoring and versioning.",
     "items": ["owner_and_kpis", "versioned_release", "basic_monitoring"],
     "signoff_roles": {"business_owner": 1}, "signoff_order": [],
     "evaluation_thresholds": {"task_success_rate": {"min": 0.7}},
     "regression_margin": 0.10, "access_review_days": 365, "reassessment_days": 365,
     "dormancy_days": 90, "monitoring_thresholds": {"error_rate": {"max": 0.1}}},
    {"tier": "medium",
     "description": "Adds access control, evaluation and an audit trail; compliance signs.",
     "items": ["owner_and_kpis", "versioned_release", "basic_monitoring", "access_control",
               "evaluation", "audit_trail"],
     "signoff_roles": {"business_owner": 1, "compliance_officer": 1}, "signoff_order": [],
     "evaluation_thresholds": {"task_success_rate": {"min": 0.8},
                               "harmful_output_rate": {"max": 0.02}},
     "regression_margin": 0.05, "access_review_days": 180, "reassessment_days": 180,
     "dormancy_days": 60,
     "monitoring_thresholds": {"error_rate": {"max": 0.05}, "latency_p95_ms": {"max": 10000}}},
    {"tier": "high",
     "description": "KPIs, access control, human approval paths, evaluation thresholds, audit "
                    "trails, observability, incident response and decommissioning.",
     "items": _HIGH_ITEMS,
     "signoff_roles": {"security_reviewer": 1, "compliance_officer": 1, "business_owner": 1},
     "signoff_order": _SIGN_ORDER,
     "evaluation_thresholds": {"task_success_rate": {"min": 0.9},
                               "harmful_output_rate": {"max": 0.01},
                               "groundedness": {"min": 0.9},
                               "tool_call_error_rate": {"max": 0.02}},
     "regression_margin": 0.02, "access_review_days": 90, "reassessment_days": 90,
     "dormancy_days": 30,
     "monitoring_thresholds": {"error_rate": {"max": 0.02}, "latency_p95_ms": {"max": 8000},
                               "tool_call_failure_rate": {"max": 0.02},
                               "escalation_rate": {"max": 0.2}}},
    {"tier": "critical",
     "description": "Everything the high tier needs, adversarial testing, and two compliance "
                    "sign-offs.",
     "items": _HIGH_ITEMS + ["red_team"],
     "signoff_roles": {"security_reviewer": 1, "compliance_officer": 2, "business_owner": 1},
     "signoff_order": _SIGN_ORDER,
     "evaluation_thresholds": {"task_success_rate": {"min": 0.95},
                               "harmful_output_rate": {"max": 0.005},
                               "groundedness": {"min": 0.95},
                               "tool_call_error_rate": {"max": 0.01}},
     "regression_margin": 0.01, "access_review_days": 30, "reassessment_days": 60,
     "dormancy_days": 14,
     "monitoring_thresholds": {"error_rate": {"max": 0.01}, "latency_p95_ms": {"max": 5000},
                               "tool_call_failure_rate": {"max": 0.01},
                               "escalation_rate": {"max": 0.1}}},
    {"tier": "unacceptable",
     "description": "A prohibited practice: the agent is neither accepted nor released.",
     "items": [], "signoff_roles": {}, "signoff_order": [], "evaluation_thresholds": {},
     "regression_margin": 0.0, "access_review_days": 30, "reassessment_days": 30,
     "dormancy_days": 14, "monitoring_thresholds": {}},
]


def _create(apps, model_name: str, now, **fields):
    """Create a row and its first history row, as the portal's own saves would."""
    model = apps.get_model("risk", model_name)
    row = model.objects.create(**fields)
    history = apps.get_model("risk", f"Historical{model_name}")
    names = {f.attname for f in history._meta.concrete_fields}
    values = {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields
              if f.attname in names}
    history.objects.create(**values, history_date=now, history_type="+",
                           history_change_reason=SEED_REASON)
    return row


def seed(apps, schema_editor):
    now = timezone.now()
    clauses = {}
    for order, (code, framework, ref, title) in enumerate(CLAUSES):
        clauses[code] = _create(apps, "FrameworkClause", now, code=code, framework=framework,
                                ref=ref, title=title, order=order)
    questionnaire = _create(
        apps, "Questionnaire", now, version=1, title="Agent risk questionnaire",
        notes="First version.", published_at=now, tier_thresholds=TIER_THRESHOLDS, rules=RULES)
    for q_order, (key, topic, prefill, text, help_text, cited, options) in enumerate(QUESTIONS):
        question = _create(apps, "Question", now, questionnaire=questionnaire, key=key,
                           text=text, help_text=help_text, topic=topic, order=q_order,
                           prefill=prefill)
        question.clauses.set([clauses[c] for c in cited])
        for o_order, (o_key, label, weight, minimum, prohibited, value) in enumerate(options):
            option = _create(apps, "AnswerOption", now, question=question, key=o_key,
                             label=label, weight=weight, minimum_tier=minimum,
                             prohibited=prohibited, prefill_value=value, order=o_order)
            if prohibited:
                option.clauses.set([clauses["eu-ai-act-art-5"]])
    for policy in POLICIES:
        items = [{"key": key, "pillar": CHECKLIST_ITEMS[key][0], "title": CHECKLIST_ITEMS[key][1],
                  "clauses": CHECKLIST_ITEMS[key][2]} for key in policy["items"]]
        fields = {k: v for k, v in policy.items() if k != "items"}
        _create(apps, "TierPolicy", now, checklist_template=items, **fields)


def unseed(apps, schema_editor):
    for name in ("TierPolicy", "AnswerOption", "Question", "Questionnaire", "FrameworkClause"):
        apps.get_model("risk", name).objects.all().delete()
        apps.get_model("risk", f"Historical{name}").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
