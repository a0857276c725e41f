"""`manage.py seed_demo`: demo users, one per role, and agents in every lifecycle stage.

Idempotent: users are found by username and agents by slug, and whatever already exists is left
as it is (a password is set only on a user this command creates). Every change goes through the
services, with the demo users as actors, so the demo history reads like real use.
"""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from almportal.accounts.models import User
from almportal.accounts.roles import GROUP_NAMES, Role
from almportal.accounts.services import system_user
from almportal.core.lifecycle import record
from almportal.inventory import services as inventory
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
from almportal.inventory.models import Agent

# username, first name, last name, role, superuser and staff
DEMO_USERS = [
    ("owner", "Olivia", "Owens", Role.BUSINESS_OWNER, False),
    ("owner2", "Omar", "Okafor", Role.BUSINESS_OWNER, False),
    ("compliance", "Carla", "Conti", Role.COMPLIANCE, False),
    ("security", "Sam", "Sato", Role.SECURITY, False),
    ("auditor", "Audrey", "Abara", Role.AUDITOR, False),
    ("admin", "Ada", "Admin", Role.ADMIN, True),
]


def demo_password(username: str) -> str:
    return f"demo-{username}"


# The path each demo stage takes from in_development. Stages after in_development belong to
# services that later apps provide (deployments, the kill switch, retirement plans); until then
# the demo sets them directly, each move recorded with its actor and a "Demo data" reason.
FORCED_PATHS = {
    Stage.LIVE: [Stage.LIVE],
    Stage.SUSPENDED: [Stage.LIVE, Stage.SUSPENDED],
    Stage.SUNSETTING: [Stage.LIVE, Stage.SUNSETTING],
    Stage.RETIRED: [Stage.LIVE, Stage.SUNSETTING, Stage.RETIRED],
}
FORCED_REASONS = {
    Stage.LIVE: "Demo data: release deployed to production",
    Stage.SUSPENDED: "Demo data: kill switch tripped after wrong refund promises to customers",
    Stage.SUNSETTING: "Demo data: replaced by the ERP's native three-way matching",
    Stage.RETIRED: "Demo data: decommissioned, all grants revoked and data deleted",
}


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


# Each agent: its intake, owner, target stage, components (kind -> list of versions, each a
# dict; several dicts with one name make several versions) and releases, each made of the newest
# version of every component once its own `new_versions` are added.
DEMO_AGENTS = [
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
                                        "guardrails": ["no-password-resets"]}},
                     {"label": "1.1.0", "notes": "Newer model snapshot.",
                      "new_versions": {"models": [_gpt(
                          pinned_version="gpt-4o-2024-11-20",
                          notes="Newer snapshot, better at German tickets")]},
                      "configuration": {"max_tokens_per_ticket": 2000, "rate_limit_per_min": 60,
                                        "guardrails": ["no-password-resets"]}}],
    },
    {
        "owner": "owner2", "stage": Stage.SUSPENDED, "revoke": "zendesk",
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
                                        ["no-refund-promises", "pii-redaction"]}}],
    },
    {
        "owner": "owner", "stage": Stage.SUNSETTING,
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
                      "configuration": {"batch_size": 200}}],
    },
    {
        "owner": "owner2", "stage": Stage.RETIRED,
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
        },
    },
]


class Command(BaseCommand):
    help = "Load demo users (one per role) and demo agents in every lifecycle stage. Idempotent."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            created_users = self._users()
            created_agents = [spec["intake"]["name"] for spec in DEMO_AGENTS
                              if self._agent(spec)]
        if not created_users and not created_agents:
            self.stdout.write("demo data already present")
            return
        if created_users:
            self._print_logins(created_users)
        if created_agents:
            self.stdout.write(f"Demo agents created: {', '.join(created_agents)}.")

    # --- users ------------------------------------------------------------------------------

    def _users(self) -> list[User]:
        created = []
        actor = system_user()
        for username, first, last, role, superuser in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            user = User(username=username, first_name=first, last_name=last,
                        email=f"{username}@demo.almportal.example", is_staff=superuser,
                        is_superuser=superuser)
            user.set_password(demo_password(username))
            record(user, actor=actor, reason=f"Demo data: {role.label.lower()} account")
            user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
            created.append(user)
        return created

    def _print_logins(self, users: list[User]) -> None:
        roles = {username: role for username, *_, role, _ in DEMO_USERS}
        self.stdout.write("Demo logins:")
        self.stdout.write(f"  {'username':<12} {'password':<18} role")
        for user in users:
            role = roles[user.username]
            self.stdout.write(f"  {user.username:<12} {demo_password(user.username):<18} "
                              f"{role.label}")

    # --- agents -----------------------------------------------------------------------------

    def _agent(self, spec: dict) -> Agent | None:
        """Create one demo agent and take it to its stage, unless its slug exists already."""
        if Agent.objects.filter(slug=slugify(spec["intake"]["name"])).exists():
            return None
        users = {u.username: u for u in User.objects.filter(
            username__in=[name for name, *_ in DEMO_USERS])}
        owner, compliance = users[spec["owner"]], users["compliance"]
        target = spec["stage"]

        agent = inventory.agent_create(actor=owner, data=spec["intake"])
        if "delegate" in spec:
            inventory.agent_add_delegate(actor=owner, agent=agent, user=users[spec["delegate"]],
                                         reason="Demo data: covers for the owner")
        self._components(agent, owner, spec.get("components", {}))
        if target == Stage.DRAFT:
            return agent
        agent = inventory.agent_submit_intake(actor=owner, agent=agent)
        if target == Stage.PROPOSED:
            return agent
        if target == Stage.DECLINED:
            return inventory.agent_decline(actor=compliance, agent=agent,
                                           reason=spec["decline_reason"])
        agent = inventory.agent_accept(actor=compliance, agent=agent,
                                       reason="Clear business case; proceed to development")
        self._releases(agent, owner, spec.get("releases", []))
        for stage in FORCED_PATHS.get(target, []):
            agent.stage = stage
            record(agent, actor=users["admin"], reason=FORCED_REASONS[stage])
        if spec.get("review_due"):
            # The first access-review scan after `make run` starts opens this agent's review.
            agent.next_review_at = timezone.localdate()
            record(agent, actor=users["admin"], reason="Demo data: access review due today")
        if "revoke" in spec:
            credential = agent.credentials.get(name=spec["revoke"])
            inventory.credential_revoke(actor=users["admin"], credential=credential,
                                        reason="Demo data: grant revoked while suspended")
        return agent

    def _components(self, agent: Agent, owner: User, components: dict) -> None:
        for kind, versions in components.items():
            for data in versions:
                data = dict(data)
                if "expires_in_days" in data:
                    days = data.pop("expires_in_days")
                    data["expires_at"] = timezone.now() + timedelta(days=days)
                inventory.component_add_version(actor=owner, agent=agent, kind=kind, data=data)

    def _releases(self, agent: Agent, owner: User, releases: list[dict]) -> None:
        for spec in releases:
            self._components(agent, owner, spec.get("new_versions", {}))
            release = inventory.release_create(
                actor=owner, agent=agent, label=spec["label"], notes=spec["notes"],
                configuration=spec["configuration"], components=self._latest_components(agent))
            if spec.get("submit"):
                inventory.release_submit(actor=owner, release=release,
                                         reason="Ready for the pilot; please review")

    @staticmethod
    def _latest_components(agent: Agent) -> dict[str, list[int]]:
        """The newest version of each named component that is still in force."""
        chosen: dict[str, list[int]] = {}
        for kind, relation in (("models", agent.models), ("prompts", agent.prompts),
                               ("tools", agent.tools), ("data_sources", agent.data_sources),
                               ("credentials", agent.credentials.filter(revoked_at=None))):
            newest: dict[str, int] = {}
            for component in relation.order_by("name", "-version"):
                newest.setdefault(component.name, component.pk)
            chosen[kind] = list(newest.values())
        return chosen
