"""What the demo portal holds: one agent in every lifecycle stage, each with its intake, its
components, its releases and the answers its risk assessment gives.

Each agent: its intake, owner (and a delegate, who submits its releases so that the owner may
sign as owner), target stage, risk answers, components (kind -> list of versions, each a dict;
several dicts with one name make several versions) and releases, each made of the newest version
of every component once its own `new_versions` are added. A release marked `deploy` goes through
the release gate to production (`all_at_once`, or `canary` at `canary_weight` percent)."""

from typing import Any

from almportal.inventory.choices import (
    ActionReach,
    Audience,
    AutonomyLevel,
    DataClassification,
    GrantMode,
    Hosting,
    RegulatedDomain,
    Stage,
    ToolKind,
)


def _answers(**overrides) -> dict:
    """Risk questionnaire answers: a low-risk baseline with the agent's own answers on top."""
    return {"data_sensitivity": "internal", "autonomy": "suggest_only",
            "action_reach": "read_only", "regulated_domain": "none", "audience": "internal",
            "scale": "medium", "tool_access": "none", "model_hosting": "vendor_no_retention",
            "human_oversight": "every_output", "prohibited_practices": "none", **overrides}


def _gpt(name="main-model", **overrides) -> dict:
    data = {"name": name, "provider": "OpenAI", "model_name": "gpt-4o",
            "pinned_version": "gpt-4o-2024-08-06", "hosting": Hosting.VENDOR_API,
            "data_retention": "Zero data retention agreement; no training on inputs"}
    data.update(overrides)
    return data


def _claude(name="main-model", **overrides) -> dict:
    data = {"name": name, "provider": "Anthropic", "model_name": "claude-sonnet",
            "pinned_version": "claude-sonnet-4-20250514", "hosting": Hosting.VENDOR_API,
            "data_retention": "30 days for abuse monitoring, no training"}
    data.update(overrides)
    return data


def _llama(name="main-model", **overrides) -> dict:
    data = {"name": name, "provider": "Meta (self-hosted)", "model_name": "llama-3.1-70b-instruct",
            "pinned_version": "3.1-70b-instruct-q8", "hosting": Hosting.SELF_HOSTED,
            "data_retention": "Stays on our GPU cluster; logs kept 14 days"}
    data.update(overrides)
    return data


DEMO_AGENTS: list[dict[str, Any]] = [
    {
        "owner": "owner2", "stage": Stage.DRAFT,
        "intake": {
            "name": "Sales CRM updater",
            "purpose": "Account managers lose an hour a day copying call notes into the CRM. "
                       "The agent turns call transcripts into CRM activity records and next "
                       "steps.",
            "why_agent": "Transcripts are free text; rules cannot pick out commitments, "
                         "contacts and dates reliably.",
            "business_unit": "Sales", "sponsor": "VP Sales EMEA",
            "intended_users": "45 account managers in EMEA.",
            "audience": Audience.INTERNAL,
            "success_metrics": [{"name": "Time spent on CRM updates", "target": "-50%"},
                                {"name": "Records needing correction", "target": "< 5%"}],
            "autonomy_level": AutonomyLevel.HUMAN_APPROVES,
            "data_classification": DataClassification.CONFIDENTIAL,
            "action_reach": ActionReach.WRITES_INTERNAL,
            "tags": ["crm", "sales"],
        },
        "components": {
            "tools": [{"name": "crm-activities", "tool_kind": ToolKind.REST_API,
                       "endpoint": "https://crm.example.com/api/v2/activities",
                       "operations": ["activities.create", "contacts.read"],
                       "writes": True, "needs_human_approval": True}],
        },
    },
    {
        "owner": "owner", "stage": Stage.PROPOSED,
        "intake": {
            "name": "Internal FAQ assistant",
            "purpose": "Answers staff questions about internal policies (travel, expenses, "
                       "leave) from the employee handbook, with a link to the source section.",
            "why_agent": "Search returns whole documents; people want the answer and the "
                         "paragraph it comes from.",
            "business_unit": "People Operations", "sponsor": "Chief People Officer",
            "intended_users": "All staff, about 2,000 people.",
            "audience": Audience.INTERNAL,
            "success_metrics": [{"name": "Deflected HR tickets", "target": "30%"},
                                {"name": "Answers rated helpful", "target": "80%"}],
            "autonomy_level": AutonomyLevel.SUGGEST_ONLY,
            "data_classification": DataClassification.INTERNAL,
            "action_reach": ActionReach.READ_ONLY,
            "tags": ["faq", "handbook"],
        },
    },
    {
        "owner": "owner2", "stage": Stage.DECLINED,
        "decline_reason": "Approving expenses moves money with no human in the loop. Refile as "
                          "suggest-only, with the finance team approving each claim.",
        "intake": {
            "name": "Expense auto-approver",
            "purpose": "Approves expense claims under 500 EUR that match the travel policy, so "
                       "that managers only see exceptions.",
            "why_agent": "Receipts arrive as photos and free text; the policy has many "
                         "exceptions.",
            "business_unit": "Finance", "sponsor": "CFO",
            "intended_users": "Finance operations; indirectly every employee who claims.",
            "audience": Audience.INTERNAL,
            "success_metrics": [{"name": "Claims approved within a day", "target": "90%"}],
            "autonomy_level": AutonomyLevel.FULLY_AUTONOMOUS,
            "data_classification": DataClassification.CONFIDENTIAL,
            "action_reach": ActionReach.MOVES_MONEY_OR_ACCESS,
            "regulated_domain": RegulatedDomain.FINANCE,
            "tags": ["finance", "expenses"],
        },
    },
    {
        "owner": "owner", "stage": Stage.IN_DEVELOPMENT, "delegate": "owner2",
        "answers": _answers(data_sensitivity="restricted", autonomy="within_limits",
                            action_reach="writes_internal", regulated_domain="hr",
                            tool_access="writes_approved", human_oversight="consequential"),
        "intake": {
            "name": "HR onboarding assistant",
            "purpose": "Guides new joiners through their first two weeks: accounts, training, "
                       "equipment and who to ask, and reminds managers of open onboarding "
                       "tasks.",
            "why_agent": "Onboarding differs by country and team; a static checklist is out of "
                         "date the week it is written.",
            "business_unit": "People Operations", "sponsor": "Chief People Officer",
            "intended_users": "About 60 new joiners a month and their managers.",
            "audience": Audience.INTERNAL,
            "success_metrics": [{"name": "Onboarding tasks done in week one", "target": "95%"},
                                {"name": "New joiner satisfaction", "target": ">= 4.2/5"}],
            "autonomy_level": AutonomyLevel.WITHIN_LIMITS,
            "data_classification": DataClassification.RESTRICTED,
            "action_reach": ActionReach.WRITES_INTERNAL,
            "regulated_domain": RegulatedDomain.HR,
            "tags": ["hr", "onboarding"],
        },
        "components": {
            "models": [_claude()],
            "prompts": [
                {"name": "system", "text": "You help new employees through onboarding. Answer "
                 "only from the onboarding plan and the handbook; never reveal another "
                 "employee's data.", "notes": "First draft"},
                {"name": "system", "text": "You help new employees through onboarding. Answer "
                 "only from the onboarding plan and the handbook. Never reveal another "
                 "employee's personal data; hand questions about pay to HR.",
                 "notes": "Pay questions go to HR"},
            ],
            "tools": [{"name": "workday-tasks", "tool_kind": ToolKind.REST_API,
                       "endpoint": "https://wd5.example.com/ccx/api/onboarding/v1",
                       "operations": ["tasks.list", "tasks.complete"],
                       "writes": True, "needs_human_approval": False}],
            "data_sources": [{"name": "handbook", "system": "Confluence",
                              "classification": DataClassification.INTERNAL,
                              "retrieval_scope": "Space HR-HANDBOOK, published pages only"},
                             {"name": "joiner-profile", "system": "Workday",
                              "classification": DataClassification.RESTRICTED,
                              "retrieval_scope": "The asking employee's own onboarding plan"}],
            "credentials": [{"name": "workday-integration", "identity": "svc-onboarding-agent",
                             "scopes": ["onboarding.tasks.read", "onboarding.tasks.write"],
                             "granted_by": "HRIS team", "mode": GrantMode.STANDING,
                             "expires_in_days": 180}],
        },
        "releases": [{"label": "0.9.0", "notes": "Pilot with the Lisbon office.",
                      "configuration": {"max_tokens_per_answer": 1200,
                                        "monthly_budget_eur": 400,
                                        "guardrails": ["pii-filter", "topic-restriction"]},
                      "submit": True}],
    },
    {
        "owner": "owner", "stage": Stage.LIVE, "delegate": "owner2", "review_due": True,
        "answers": _answers(autonomy="within_limits", action_reach="writes_internal",
                            scale="large", tool_access="writes_approved",
                            human_oversight="every_output"),
        "intake": {
            "name": "IT helpdesk triage",
            "purpose": "Reads incoming IT tickets, classifies them, fills in the missing "
                       "details and routes them to the right resolver group; suggests fixes for "
                       "known issues.",
            "why_agent": "Tickets are free text in four languages; keyword routing sends a "
                         "third of them to the wrong team.",
            "business_unit": "IT Operations", "sponsor": "CIO",
            "intended_users": "The 24 service desk agents; about 3,000 tickets a month.",
            "audience": Audience.INTERNAL,
            "success_metrics": [{"name": "Tickets routed right the first time",
                                 "target": "90%"},
                                {"name": "Median time to assignment", "target": "< 10 min"}],
            "autonomy_level": AutonomyLevel.WITHIN_LIMITS,
            "data_classification": DataClassification.INTERNAL,
            "action_reach": ActionReach.WRITES_INTERNAL,
            "tags": ["itsm", "servicenow"],
        },
        "components": {
            "models": [_gpt()],
            "prompts": [{"name": "triage", "text": "Classify the ticket into one of the resolver "
                         "groups listed below, extract device, location and urgency, and "
                         "explain your choice in one sentence."}],
            "tools": [{"name": "servicenow-incidents", "tool_kind": ToolKind.REST_API,
                       "endpoint": "https://example.service-now.com/api/now/table/incident",
                       "operations": ["incident.read", "incident.update_assignment_group",
                                      "incident.add_work_note"],
                       "writes": True, "needs_human_approval": False},
                      {"name": "kb-search", "tool_kind": ToolKind.MCP_SERVER,
                       "endpoint": "mcp://kb.internal.example.com",
                       "operations": ["search"], "writes": False,
                       "needs_human_approval": False}],
            "data_sources": [{"name": "known-errors", "system": "ServiceNow knowledge base",
                              "classification": DataClassification.INTERNAL,
                              "retrieval_scope": "Published known-error articles"}],
            "credentials": [{"name": "servicenow", "identity": "svc-helpdesk-triage",
                             "scopes": ["incident.read", "incident.write"],
                             "granted_by": "ITSM platform team", "mode": GrantMode.STANDING,
                             "expires_in_days": 365}],
        },
        "releases": [{"label": "1.0.0", "notes": "First production release.",
                      "configuration": {"max_tokens_per_ticket": 2000, "rate_limit_per_min": 60,
                                        "guardrails": ["no-password-resets"]},
                      "deploy": "all_at_once", "samples": True},
                     {"label": "1.1.0", "notes": "Newer model snapshot.",
                      "new_versions": {"models": [_gpt(
                          pinned_version="gpt-4o-2024-11-20",
                          notes="Newer snapshot, better at German tickets")]},
                      "configuration": {"max_tokens_per_ticket": 2000, "rate_limit_per_min": 60,
                                        "guardrails": ["no-password-resets"]},
                      "deploy": "canary", "canary_weight": 25, "samples": True}],
    },
    {
        "owner": "owner2", "stage": Stage.SUSPENDED, "delegate": "owner", "revoke": "zendesk",
        "answers": _answers(data_sensitivity="restricted", autonomy="within_limits",
                            action_reach="external_communications", audience="customers",
                            scale="large", model_hosting="vendor_retention",
                            human_oversight="after_the_fact"),
        "suspend": "Kill switch: the assistant promised refunds to customers, which it must "
                   "never do; suspended until the guardrail is fixed.",
        "intake": {
            "name": "Customer support assistant",
            "purpose": "Answers customer questions about orders, deliveries and returns on the "
                       "web chat, and hands over to a person when it cannot help.",
            "why_agent": "Most chats are about order status and returns, but customers phrase "
                         "them in countless ways.",
            "business_unit": "Customer Service", "sponsor": "Head of Customer Experience",
            "intended_users": "Web shop customers, about 40,000 chats a month.",
            "audience": Audience.CUSTOMERS,
            "success_metrics": [{"name": "Chats resolved without handover", "target": "60%"},
                                {"name": "CSAT", "target": ">= 4.3/5"}],
            "autonomy_level": AutonomyLevel.WITHIN_LIMITS,
            "data_classification": DataClassification.RESTRICTED,
            "action_reach": ActionReach.EXTERNAL_COMMUNICATIONS,
            "tags": ["customer-service", "chat"],
        },
        "components": {
            "models": [_claude()],
            "prompts": [{"name": "system", "text": "You are the web shop's support assistant. "
                         "Only discuss the customer's own orders. Never promise refunds; hand "
                         "refund requests to a person."}],
            "tools": [{"name": "order-lookup", "tool_kind": ToolKind.DATABASE,
                       "endpoint": "orders-replica.internal:5432/orders",
                       "operations": ["orders.read", "shipments.read"], "writes": False}],
            "credentials": [{"name": "zendesk", "identity": "svc-support-chat",
                             "scopes": ["tickets.write", "users.read"],
                             "granted_by": "Customer Service tooling", "expires_in_days": 90}],
        },
        "releases": [{"label": "2.3.0", "notes": "Returns flow for marketplace orders.",
                      "configuration": {"handover_after_turns": 6, "guardrails":
                                        ["no-refund-promises", "pii-redaction"]},
                      "deploy": "all_at_once", "samples": True, "errors_spike": True}],
    },
    {
        "owner": "owner", "stage": Stage.SUNSETTING, "delegate": "owner2",
        "answers": _answers(data_sensitivity="confidential", autonomy="human_approves",
                            action_reach="writes_internal", regulated_domain="finance",
                            scale="small", tool_access="writes_approved",
                            model_hosting="self_hosted"),
        "sunset": "Replaced by the ERP's native three-way matching",
        "dependents": "Accounts payable month-end close procedure",
        "intake": {
            "name": "Invoice matching",
            "purpose": "Matches supplier invoices to purchase orders and goods receipts and "
                       "proposes the match to accounts payable clerks.",
            "why_agent": "Invoices come as PDFs in many layouts with line items that do not map "
                         "one to one onto order lines.",
            "business_unit": "Finance", "sponsor": "Head of Accounts Payable",
            "intended_users": "8 accounts payable clerks; 12,000 invoices a month.",
            "audience": Audience.INTERNAL,
            "success_metrics": [{"name": "Invoices matched automatically", "target": "70%"}],
            "autonomy_level": AutonomyLevel.HUMAN_APPROVES,
            "data_classification": DataClassification.CONFIDENTIAL,
            "action_reach": ActionReach.WRITES_INTERNAL,
            "regulated_domain": RegulatedDomain.FINANCE,
            "tags": ["finance", "accounts-payable"],
        },
        "components": {
            "models": [_llama()],
            "prompts": [{"name": "matcher", "text": "Match each invoice line to order lines. "
                         "Return JSON with the match and a confidence; never approve "
                         "payment."}],
            "tools": [{"name": "sap-ap", "tool_kind": ToolKind.REST_API,
                       "endpoint": "https://sap.internal.example.com/sap/opu/odata/ap",
                       "operations": ["invoices.read", "purchase_orders.read",
                                      "invoices.propose_match"],
                       "writes": True, "needs_human_approval": True}],
        },
        "releases": [{"label": "1.4.2", "notes": "Last release before the ERP upgrade.",
                      "configuration": {"batch_size": 200}, "deploy": "all_at_once"}],
    },
    {
        "owner": "owner2", "stage": Stage.RETIRED, "delegate": "owner", "lifetime": True,
        "answers": _answers(data_sensitivity="confidential"),
        "sunset": "Meeting platform now ships its own summaries",
        "intake": {
            "name": "Meeting notes summariser",
            "purpose": "Summarised recorded team meetings into decisions and action items.",
            "why_agent": "Meeting transcripts are long and unstructured.",
            "business_unit": "Operations", "sponsor": "COO",
            "intended_users": "About 300 team leads.",
            "audience": Audience.INTERNAL,
            "success_metrics": [{"name": "Summaries used", "target": "70% of meetings"}],
            "autonomy_level": AutonomyLevel.SUGGEST_ONLY,
            "data_classification": DataClassification.CONFIDENTIAL,
            "action_reach": ActionReach.READ_ONLY,
            "tags": ["productivity"],
        },
        "components": {
            "models": [_gpt(model_name="gpt-4o-mini", pinned_version="gpt-4o-mini-2024-07-18")],
            "prompts": [{"name": "summary", "text": "Summarise the meeting into decisions, "
                         "action items with owners, and open questions."}],
            "data_sources": [{"name": "meeting-transcripts", "system": "Microsoft Teams",
                              "classification": DataClassification.CONFIDENTIAL,
                              "retrieval_scope": "Transcripts of meetings whose organiser "
                                                 "asked for a summary"}],
            "credentials": [{"name": "graph-transcripts", "identity": "svc-meeting-notes",
                             "scopes": ["OnlineMeetingTranscript.Read.All"],
                             "granted_by": "Collaboration platform team",
                             "mode": GrantMode.STANDING, "expires_in_days": 180}],
        },
        # Live for two weeks, with three hours of failed summaries after a platform update a
        # day and a half before it was retired (lifetime.py holds the rest of its working life).
        "releases": [{"label": "1.0.0", "notes": "Summaries for recorded meetings.",
                      "configuration": {"max_tokens_per_summary": 1500},
                      "deploy": "all_at_once", "samples": True, "errors_spike": True,
                      "errors_spike_hours_ago": 30}],
    },
]


