from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from ..inventory.choices import RiskTier
from ..inventory.models import Agent
from .choices import (
    TIER_CHOICES,
    AssessmentState,
    Framework,
    ImpactState,
    PrefillSource,
    RiskRating,
    RiskStatus,
    Topic,
    TreatmentKind,
    TreatmentStatus,
)

User = settings.AUTH_USER_MODEL


class FrameworkClause(models.Model):
    """A clause of a framework (NIST AI RMF category, ISO/IEC 42001 control, EU AI Act article)
    that questions and checklist items cite. Checklist items cite it by `code`."""

    code = models.SlugField(max_length=60, unique=True,
                            help_text="Stable identifier cited by checklist items, e.g. "
                                      "eu-ai-act-art-14.")
    framework = models.CharField(max_length=20, choices=Framework.choices)
    ref = models.CharField("reference", max_length=40, help_text="e.g. GOVERN 1, A.6.2.6, Art. 14")
    title = models.CharField(max_length=300)
    order = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["framework", "order", "ref"]
        constraints = [models.UniqueConstraint(fields=["framework", "ref"],
                                               name="frameworkclause_unique_ref")]

    def __str__(self) -> str:
        return f"{self.get_framework_display()} {self.ref}"


class Questionnaire(models.Model):
    """One version of the risk questionnaire. Once published it is frozen: assessments record
    the version they used, so a change is made in a copy (a new version) and published."""

    version = models.PositiveIntegerField(unique=True, validators=[MinValueValidator(1)])
    title = models.CharField(max_length=200, default="Agent risk questionnaire")
    notes = models.TextField(blank=True, help_text="What changed in this version.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    tier_thresholds = models.JSONField(
        default=dict, blank=True,
        help_text='The lowest score of each tier above low, e.g. {"medium": 12, "high": 25, '
                  '"critical": 45}.')
    rules = models.JSONField(
        default=list, blank=True,
        help_text='Combinations of answers that force a minimum tier: a list of {"when": '
                  '{question_key: [option_key, …]}, "minimum_tier": tier, "explanation": text}.')
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Question(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE,
                                      related_name="questions")
    key = models.SlugField(max_length=60)
    text = models.CharField(max_length=500)
    help_text = models.TextField(blank=True)
    topic = models.CharField(max_length=30, choices=Topic.choices)
    order = models.PositiveIntegerField(default=0)
    prefill = models.CharField(max_length=30, choices=PrefillSource.choices, blank=True,
                               help_text="Where the suggested answer comes from.")
    clauses = models.ManyToManyField(FrameworkClause, blank=True, related_name="questions")
    history = HistoricalRecords()

    class Meta:
        ordering = ["questionnaire", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["questionnaire", "key"],
                                               name="question_unique_key")]

    def __str__(self) -> str:
        return f"{self.key}: {self.text}"


class AnswerOption(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=300)
    weight = models.IntegerField(default=0)
    minimum_tier = models.CharField(max_length=20, choices=TIER_CHOICES, blank=True,
                                    help_text="This answer alone makes the tier at least this.")
    prohibited = models.BooleanField(
        default=False, help_text="Describes a prohibited practice (EU AI Act Art. 5): the tier "
                                 "is unacceptable.")
    prefill_value = models.CharField(
        max_length=60, blank=True,
        help_text="The value of the question's prefill source that suggests this answer.")
    order = models.PositiveIntegerField(default=0)
    clauses = models.ManyToManyField(FrameworkClause, blank=True, related_name="answer_options")
    history = HistoricalRecords()

    class Meta:
        ordering = ["question", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["question", "key"],
                                               name="answeroption_unique_key")]

    def __str__(self) -> str:
        return self.label


class Assessment(models.Model):
    """A risk assessment of an agent: drafted by its owner (or an assessor), completed by a
    compliance officer or admin. It keeps the snapshot and fingerprint of the agent's
    risk-relevant attributes it was made on; staleness is derived from them."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="risk_assessments")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT,
                                      related_name="assessments")
    state = models.CharField(max_length=20, choices=AssessmentState.choices,
                             default=AssessmentState.DRAFT, db_index=True)
    answers = models.JSONField(default=dict, blank=True, help_text="{question key: option key}")
    score = models.IntegerField(null=True, blank=True)
    computed_tier = models.CharField(max_length=20, choices=TIER_CHOICES, blank=True)
    tier = models.CharField(max_length=20, choices=TIER_CHOICES, blank=True)
    justification = models.TextField(max_length=4000, blank=True,
                                     help_text="Why the tier is above the computed one.")
    drivers = models.JSONField(default=list, blank=True, editable=False)
    attributes = models.JSONField(default=dict, blank=True, editable=False,
                                  help_text="The agent's risk-relevant attributes assessed.")
    fingerprint = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    # Derived, for pages that list stale assessments from the database: whether the agent's
    # attributes now differ from `fingerprint` (services.assessments_mark_changed keeps it).
    attributes_changed = models.BooleanField(default=False, editable=False, db_index=True)
    # Derived: the agent's latest completed assessment (the one judge_assessment decides on),
    # so pages join it instead of looking it up per agent (the completing service keeps it).
    latest = models.BooleanField(default=False, editable=False)
    drafted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    completed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    history = HistoricalRecords(excluded_fields=["updated_at", "attributes_changed", "latest"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agent", "state", "completed_at"])]
        constraints = [models.UniqueConstraint(fields=["agent"], condition=models.Q(latest=True),
                                               name="risk_one_latest_assessment_per_agent")]

    def __str__(self) -> str:
        return f"Risk assessment #{self.pk} of {self.agent}"

    def get_absolute_url(self) -> str:
        return reverse("risk:assessment-detail", kwargs={"pk": self.pk})

    @property
    def is_completed(self) -> bool:
        return self.state == AssessmentState.COMPLETED

    @property
    def is_raised(self) -> bool:
        return bool(self.tier and self.computed_tier and self.tier != self.computed_tier)


class TierPolicy(models.Model):
    """What a tier requires. Edited by admins; gates and staleness read the policy in force."""

    tier = models.CharField(max_length=20, choices=TIER_CHOICES, unique=True)
    description = models.TextField(blank=True)
    checklist_template = models.JSONField(
        default=list, blank=True,
        help_text='Readiness checklist items: [{"key", "pillar", "title", "clauses": [code, …]}].')
    signoff_roles = models.JSONField(default=dict, blank=True,
                                     help_text='Required sign-offs: {role: quorum}.')
    signoff_order = models.JSONField(default=list, blank=True,
                                     help_text="Roles in the order they sign; empty for any order.")
    evaluation_thresholds = models.JSONField(
        default=dict, blank=True, help_text='{metric: {"min": x} or {"max": x}}.')
    regression_margin = models.FloatField(
        default=0.05, validators=[MinValueValidator(0)],
        help_text="How far a metric may fall behind the release in production (a fraction).")
    access_review_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    reassessment_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    dormancy_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="How long a live agent may go without metrics before it is flagged.")
    monitoring_thresholds = models.JSONField(
        default=dict, blank=True, help_text='{metric: {"min": x} or {"max": x}}.')
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "tier policies"
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{RiskTier(self.tier).label} tier policy"


# --- Risk register (ISO/IEC 42001 6.1.2–6.1.3) and impact assessment (6.1.4, AI Act Art. 27) ---

SCALE = [MinValueValidator(1), MaxValueValidator(5)]
# A TextField's max_length binds forms only; the model checks it too (services clean).
LONG_TEXT = [MaxLengthValidator(4000)]


class RiskEntry(models.Model):
    """One risk of an agent in its register: rated by likelihood and impact (1–5 each), owned by
    a named person, treated by Treatments, its residual risk accepted by an accountable person.
    Every change goes through risk.register."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="risk_entries")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=4000, validators=LONG_TEXT, blank=True)
    likelihood = models.PositiveSmallIntegerField(validators=SCALE, help_text="1 (rare) to 5.")
    impact = models.PositiveSmallIntegerField(validators=SCALE, help_text="1 (minor) to 5.")
    inherent_rating = models.CharField(max_length=20, choices=RiskRating.choices,
                                       editable=False)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                              help_text="Who answers for this risk.")
    status = models.CharField(max_length=20, choices=RiskStatus.choices, default=RiskStatus.OPEN,
                              db_index=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["agent", "pk"]
        verbose_name = "risk entry"
        verbose_name_plural = "risk entries"

    def __str__(self) -> str:
        return f"Risk #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("risk:risk-entry", kwargs={"slug": self.agent.slug, "pk": self.pk})


class Treatment(models.Model):
    """What is done about a risk, and the likelihood and impact left once it is done."""

    risk_entry = models.ForeignKey(RiskEntry, on_delete=models.PROTECT,
                                   related_name="treatments")
    kind = models.CharField(max_length=20, choices=TreatmentKind.choices)
    description = models.TextField(max_length=4000, validators=LONG_TEXT)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=TreatmentStatus.choices,
                              default=TreatmentStatus.PLANNED)
    residual_likelihood = models.PositiveSmallIntegerField(validators=SCALE)
    residual_impact = models.PositiveSmallIntegerField(validators=SCALE)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["risk_entry", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} treatment #{self.pk} of risk #{self.risk_entry_id}"


class ResidualRiskAcceptance(models.Model):
    """An accountable person's signed acceptance of the residual risk of one risk entry, bound
    to the content hash of the entry and its treatments as signed: a later edit shows that the
    acceptance no longer matches (risk.rules.register_hash). Never edited."""

    risk_entry = models.ForeignKey(RiskEntry, on_delete=models.PROTECT,
                                   related_name="acceptances")
    accepted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    statement = models.TextField(max_length=4000, validators=LONG_TEXT)
    residual_rating = models.CharField(max_length=20, choices=RiskRating.choices)
    content_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["risk_entry", "-signed_at", "-pk"]

    def __str__(self) -> str:
        return f"Acceptance #{self.pk} of risk #{self.risk_entry_id}"


class ImpactAssessment(models.Model):
    """One version of an agent's fundamental-rights impact assessment. A draft is edited; the
    signature of an accountable person freezes it with its content hash, and any later change
    is a new version."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="impact_assessments")
    number = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    affected_people = models.TextField(
        max_length=4000, validators=LONG_TEXT, blank=True,
        help_text="The people and groups the agent's use affects, and how often.")
    affected_groups = models.TextField(
        max_length=4000, validators=LONG_TEXT, blank=True,
        help_text="Groups that are vulnerable or affected in particular (minors, staff, "
                  "applicants…).")
    fundamental_rights_risks = models.TextField(
        max_length=4000, validators=LONG_TEXT, blank=True,
        help_text="The specific risks of harm to their fundamental rights.")
    mitigations = models.TextField(max_length=4000, validators=LONG_TEXT, blank=True,
                                   help_text="What is done if those risks materialise, and "
                                             "how complaints are handled.")
    oversight_measures = models.TextField(max_length=4000, validators=LONG_TEXT, blank=True,
                                          help_text="The human oversight measures in place.")
    state = models.CharField(max_length=20, choices=ImpactState.choices,
                             default=ImpactState.DRAFT, db_index=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    drafted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["agent", "-number"]
        constraints = [models.UniqueConstraint(fields=["agent", "number"],
                                               name="impactassessment_unique_number")]

    def __str__(self) -> str:
        return f"Impact assessment v{self.number} of {self.agent}"

    def get_absolute_url(self) -> str:
        return reverse("risk:impact-detail", kwargs={"slug": self.agent.slug,
                                                     "number": self.number})

    @property
    def is_signed(self) -> bool:
        return self.state == ImpactState.SIGNED
