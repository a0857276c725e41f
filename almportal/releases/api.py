"""The releases API: releases (drafting, submission and comparison), checklist items and their
evidence (files downloaded too), evaluation suites and runs (CI posts runs with a write-scoped
token), sign-offs, and the gate.

Serializers only parse and render; every change is one call to releases.services, every read
goes through releases.selectors, so the API and the pages agree on who sees and does what."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from ..accounts.models import User
from ..accounts.permissions import signed_in
from ..accounts.roles import Role
from ..core.api import (
    ReasonSerializer,
    SortOrdering,
    StrictSerializer,
    slug_field,
    username_field,
    validated,
    validated_query,
)
from ..core.errors import DomainError
from ..core.parsers import JSONParser
from ..inventory.api import MAX_LIST_ITEMS, VisibleAgentField
from ..inventory.models import COMPONENT_MODELS
from . import evidence_files, rules, selectors, services
from .choices import METRICS, Decision, EvidenceKind, ItemStatus, RunSource
from .diff import comparison_refusal, release_diff
from .filters import DEFAULT_SORT, RELEASE_SORTS, ReleaseFilter
from .gate_summary import gate_summary_for
from .models import ChecklistItem, EvaluationRun, EvaluationSuite, Evidence, Release, SignOff
from .selectors import releases_visible_to


@extend_schema_field(OpenApiTypes.INT)
class VisibleField(serializers.PrimaryKeyRelatedField):
    """An object by id among those the requesting user may see: a hidden one reads as one that
    does not exist."""

    def __init__(self, selector, model, **kwargs) -> None:
        self.selector, self.model = selector, model
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.selector(request.user) if request else self.model.objects.none()


@extend_schema_field(OpenApiTypes.STR)
class PeopleField(serializers.SlugRelatedField):
    def __init__(self, **kwargs) -> None:
        super().__init__(slug_field="username", **kwargs)

    def get_queryset(self):
        return User.objects.filter(is_active=True, is_service_account=False)


# --- Checklist -----------------------------------------------------------------------------

class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = username_field(read_only=True)
    download_url = serializers.SerializerMethodField(
        help_text="For kind=file: the API address of the file (a token can fetch it).")
    page_url = serializers.SerializerMethodField(
        help_text="For kind=file: the page's address of the file (a signed-in browser).")

    class Meta:
        model = Evidence
        fields = ["id", "item", "kind", "original_name", "sha256", "size", "content_type", "url",
                  "evaluation_run", "note", "effective_date", "uploaded_by", "uploaded_at",
                  "superseded_by", "replaced_at", "download_url", "page_url"]
        read_only_fields = fields

    def get_download_url(self, evidence: Evidence) -> str | None:
        if evidence.kind != EvidenceKind.FILE:
            return None
        return reverse("api-evidence-download", kwargs={"pk": evidence.pk})

    def get_page_url(self, evidence: Evidence) -> str | None:
        return evidence.get_download_url() if evidence.kind == EvidenceKind.FILE else None


class ChecklistItemSerializer(serializers.ModelSerializer):
    owner = username_field(read_only=True)
    reviewer = username_field(read_only=True)
    reviewed_by = username_field(read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "release", "key", "pillar", "title", "clauses", "owner", "reviewer",
                  "status", "reviewed_by", "reviewed_at", "review_comment", "evidence"]
        read_only_fields = fields


class ChecklistItemAssignSerializer(StrictSerializer):
    owner = PeopleField(required=False, help_text="Username of the item's owner.")
    reviewer = PeopleField(required=False, help_text="Username of the item's reviewer.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ChecklistBulkSerializer(StrictSerializer):
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1,
                                  max_length=MAX_LIST_ITEMS,
                                  help_text="Ids of checklist items of this release.")
    action = serializers.ChoiceField(choices=list(services.BULK_ACTIONS.items()))
    owner = PeopleField(required=False, help_text="assign: username of the items' owner.")
    reviewer = PeopleField(required=False, help_text="assign: username of their reviewer.")
    url = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="",
                                help_text="evidence: a link attached to every item.")
    status = serializers.ChoiceField(choices=ItemStatus.choices, required=False,
                                     help_text="status: where to move every item.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   default="", help_text="Kept in each item's history.")


class ItemStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=ItemStatus.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                    default="")


class EvidenceCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    file = serializers.FileField(required=False, help_text="For kind=file (multipart).")
    url = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="",
                                help_text="For kind=link.")
    evaluation_run = VisibleField(selectors.runs_visible_to, EvaluationRun, required=False,
                                  help_text="For kind=evaluation: a run of this release.")
    effective_date = serializers.DateField(required=False, help_text="Default: today.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    replaces = VisibleField(selectors.evidence_visible_to, Evidence, required=False,
                            help_text="Current evidence of this item that this replaces.")


@extend_schema(tags=["readiness"])
@extend_schema_view(
    list=extend_schema(summary="Checklist items of the releases you may see"),
    retrieve=extend_schema(summary="One checklist item with its evidence"),
)
class ChecklistItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    serializer_class = ChecklistItemSerializer
    queryset = ChecklistItem.objects.none()
    filterset_fields = ["release"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChecklistItem.objects.none()
        return selectors.checklist_items_visible_to(signed_in(self.request.user)).prefetch_related(
            "evidence__uploaded_by")

    @extend_schema(summary="Name the item's owner and reviewer",
                   request=ChecklistItemAssignSerializer, responses=ChecklistItemSerializer)
    def partial_update(self, request, pk=None):
        data = validated(ChecklistItemAssignSerializer, request)
        item = services.checklist_item_assign(actor=request.user, item=self.get_object(), **data)
        return Response(self.get_serializer(item).data)

    @extend_schema(summary="Send for review (owner), accept or send back (reviewer)",
                   request=ItemStatusSerializer, responses=ChecklistItemSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        data = validated(ItemStatusSerializer, request)
        item = services.checklist_item_set_status(actor=request.user, item=self.get_object(),
                                                  **data)
        return Response(self.get_serializer(item).data)

    @extend_schema(summary="Add evidence: a file (multipart), a link or an evaluation run",
                   request={"multipart/form-data": EvidenceCreateSerializer,
                            "application/json": EvidenceCreateSerializer},
                   responses={201: EvidenceSerializer})
    @action(detail=True, methods=["post"],
            parser_classes=[parsers.MultiPartParser, parsers.FormParser, JSONParser])
    def evidence(self, request, pk=None):
        item = self.get_object()
        data = validated(EvidenceCreateSerializer, request)
        evidence = services.evidence_add(
            actor=request.user, item=item, kind=data["kind"], upload=data.get("file"),
            url=data["url"], run=data.get("evaluation_run"),
            effective_date=data.get("effective_date"), note=data["note"],
            replaces=data.get("replaces"))
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["readiness"])
class EvidenceDownloadView(APIView):
    @extend_schema(summary="Download an evidence file, as uploaded",
                   responses={(200, media): OpenApiTypes.BINARY
                              for media in evidence_files.MEDIA_TYPES})
    def get(self, request, pk: int):
        evidence = evidence_files.evidence_file_for(request.user, pk)
        return evidence_files.evidence_file_response(evidence)


# --- Evaluations ---------------------------------------------------------------------------

class EvaluationSuiteSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    created_by = username_field(read_only=True)

    class Meta:
        model = EvaluationSuite
        fields = ["id", "agent", "name", "dataset_ref", "dataset_version", "metrics",
                  "created_by", "created_at"]
        read_only_fields = fields


class EvaluationSuiteCreateSerializer(StrictSerializer):
    agent = VisibleAgentField()
    name = serializers.CharField(max_length=120)
    dataset_ref = serializers.CharField(max_length=300)
    dataset_version = serializers.CharField(max_length=80)
    metrics = serializers.ListField(child=serializers.ChoiceField(choices=list(METRICS)),
                                    allow_empty=False)


@extend_schema(tags=["readiness"])
@extend_schema_view(list=extend_schema(summary="Evaluation suites of the agents you may see"))
class EvaluationSuiteViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = EvaluationSuiteSerializer
    queryset = EvaluationSuite.objects.none()
    filterset_fields = ["agent"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EvaluationSuite.objects.none()
        return selectors.suites_visible_to(signed_in(self.request.user))

    @extend_schema(summary="Define an evaluation suite of an agent",
                   request=EvaluationSuiteCreateSerializer,
                   responses={201: EvaluationSuiteSerializer})
    def create(self, request):
        data = validated(EvaluationSuiteCreateSerializer, request)
        suite = services.evaluation_suite_create(actor=request.user, **data)
        return Response(self.get_serializer(suite).data, status=status.HTTP_201_CREATED)


class EvaluationRunSerializer(serializers.ModelSerializer):
    created_by = username_field(read_only=True)
    suite_name = serializers.CharField(source="suite.name", read_only=True)

    class Meta:
        model = EvaluationRun
        fields = ["id", "release", "suite", "suite_name", "manifest_hash", "metrics", "passed",
                  "failures", "baseline_release", "source", "notes", "created_by", "created_at"]
        read_only_fields = fields


class EvaluationRunCreateSerializer(StrictSerializer):
    release = VisibleField(releases_visible_to, Release)
    suite = VisibleField(selectors.suites_visible_to, EvaluationSuite)
    metrics = serializers.DictField(help_text="{metric: number}; metrics: " + ", ".join(METRICS))
    notes = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


@extend_schema(tags=["readiness"])
@extend_schema_view(
    list=extend_schema(summary="Evaluation runs of the releases you may see"),
    retrieve=extend_schema(summary="One evaluation run"),
)
class EvaluationRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    serializer_class = EvaluationRunSerializer
    queryset = EvaluationRun.objects.none()
    filterset_fields = ["release", "suite", "passed"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EvaluationRun.objects.none()
        return selectors.runs_visible_to(signed_in(self.request.user))

    @extend_schema(summary="Record a run (CI: a write-scoped token); the answer says whether "
                           "it passed, and why not", request=EvaluationRunCreateSerializer,
                   responses={201: EvaluationRunSerializer})
    def create(self, request):
        data = validated(EvaluationRunCreateSerializer, request)
        run = services.evaluation_run_record(actor=request.user, source=RunSource.API, **data)
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)


# --- Sign-offs and the gate ----------------------------------------------------------------

class SignOffSerializer(serializers.ModelSerializer):
    user = username_field(read_only=True)

    class Meta:
        model = SignOff
        fields = ["id", "release", "role", "user", "decision", "comment", "manifest_hash",
                  "created_at", "voided_at", "void_reason"]
        read_only_fields = fields


class SignOffCreateSerializer(StrictSerializer):
    release = VisibleField(releases_visible_to, Release)
    role = serializers.ChoiceField(choices=Role.choices)  # SignOff.role's choices
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000,
                                    default="")


@extend_schema(tags=["readiness"])
@extend_schema_view(list=extend_schema(summary="Sign-offs of the releases you may see"))
class SignOffViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = SignOffSerializer
    queryset = SignOff.objects.none()
    filterset_fields = ["release", "role", "decision"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SignOff.objects.none()
        return selectors.signoffs_visible_to(signed_in(self.request.user))

    @extend_schema(summary="Approve or reject a submitted release for one role",
                   request=SignOffCreateSerializer, responses={201: SignOffSerializer})
    def create(self, request):
        data = validated(SignOffCreateSerializer, request)
        signoff = services.signoff_record(actor=request.user, **data)
        return Response(self.get_serializer(signoff).data, status=status.HTTP_201_CREATED)


class ConditionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    passed = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())
    done = serializers.ListField(child=serializers.CharField(),
                                 help_text="What already holds, e.g. who has signed.")
    summary = serializers.CharField(help_text='One line with a count, e.g. "Checklist: 9 of '
                                              '13 accepted".')


class StandingSerializer(serializers.Serializer):
    holds = serializers.BooleanField(help_text="The release stands as it is.")
    action = serializers.ChoiceField(
        choices=["keep", "void", "reopen", "voided"],
        help_text="keep; void (its approval falls); reopen (its sign-offs stop counting); "
                  "voided (already).")
    reason = serializers.CharField(help_text="Why it does not stand, or why it was voided.")


class GateSerializer(serializers.Serializer):
    release = serializers.IntegerField(source="release.pk")
    state = serializers.CharField(source="release.state")
    manifest_hash = serializers.CharField(source="release.manifest_hash")
    passed = serializers.BooleanField()
    conditions = ConditionSerializer(many=True)
    standing = StandingSerializer()
    next_step = serializers.CharField(help_text="What the requesting user does next on it.")


@extend_schema(tags=["readiness"])
class ReleaseGateView(APIView):
    @extend_schema(summary="The release gate: each condition, passed or not, and what is missing",
                   responses=GateSerializer)
    def get(self, request, pk: int):
        release = get_object_or_404(releases_visible_to(request.user), pk=pk)
        gate = services.release_gate(release)
        summary = gate_summary_for(request.user, gate)
        return Response(GateSerializer({**vars(gate), "passed": gate.passed,
                                        "next_step": summary.next_step}).data)


class RoleProgressSerializer(serializers.Serializer):
    role = serializers.CharField()
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField()
    quorum = serializers.IntegerField()
    signers = serializers.ListField(child=serializers.CharField())


class SigningSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    roles = serializers.ListField(child=serializers.CharField(),
                                  help_text="The roles you may sign now.")
    reasons = serializers.ListField(child=serializers.CharField(),
                                    help_text="When you may sign nothing: why.")
    order = RoleProgressSerializer(many=True)


@extend_schema(tags=["readiness"])
class ReleaseSigningView(APIView):
    @extend_schema(summary="What you may sign on the release now, or why nothing; the tier's "
                           "order and who has signed", responses=SigningSerializer)
    def get(self, request, pk: int):
        release = get_object_or_404(releases_visible_to(request.user), pk=pk)
        facts = selectors.signing_facts(release)
        options = rules.signing_options(request.user, facts)
        return Response(SigningSerializer({
            "release": release.pk, "roles": options.roles, "reasons": options.reasons,
            "order": selectors.signing_order(facts)}).data)


MAX_JSON_DEPTH = 16


# --- Releases -------------------------------------------------------------------------------

def _component_ids(help_text: str) -> serializers.ListField:
    row_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    return serializers.ListField(child=row_id, required=False, max_length=MAX_LIST_ITEMS,
                                 help_text=help_text)


class ReleaseComponentsSerializer(StrictSerializer):
    """The component versions of a release, by kind: ids of rows of that kind's route."""

    models = _component_ids("Model versions (ids).")
    prompts = _component_ids("Prompt versions (ids).")
    tools = _component_ids("Tool versions (ids).")
    data_sources = _component_ids("Data source versions (ids).")
    credentials = _component_ids("Credential versions (ids).")


class ReleaseSerializer(serializers.ModelSerializer):
    agent = slug_field(read_only=True)
    components = serializers.SerializerMethodField()
    created_by = username_field(read_only=True)
    submitted_by = username_field(read_only=True)

    class Meta:
        model = Release
        fields = ["id", "agent", "number", "label", "state", "notes", "configuration",
                  "components", "manifest", "manifest_hash", "created_by", "created_at",
                  "submitted_by", "submitted_at"]
        read_only_fields = fields

    @extend_schema_field(ReleaseComponentsSerializer)
    def get_components(self, release: Release) -> dict[str, list[int]]:
        # Read from the manifest, which is the release's content: no query per row.
        chosen = release.manifest.get("components", {})
        return {kind: [entry["id"] for entry in chosen.get(kind, [])] for kind in COMPONENT_MODELS}


def _nested_deeper_than(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) \
            else ()
        if children and depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class ReleaseWriteSerializer(StrictSerializer):
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=40, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    configuration = serializers.DictField(
        required=False, help_text="Token and budget limits, rate limits, guardrails.")
    components = ReleaseComponentsSerializer(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                   help_text="Why; kept in the history.")

    def validate_configuration(self, value: dict) -> dict:
        if _nested_deeper_than(value, MAX_JSON_DEPTH):
            raise serializers.ValidationError(f"Nest at most {MAX_JSON_DEPTH} levels deep.")
        return value


class ReleaseCreateSerializer(ReleaseWriteSerializer):
    agent = VisibleAgentField()
    # A declared field set to None is dropped: a new draft's history says "drafted".
    reason = None  # type: ignore[assignment]


# --- Comparing two releases -----------------------------------------------------------------

class ReleaseCompareQuerySerializer(serializers.Serializer):
    """The comparison's query. Its one parameter is named `with`, a Python keyword, so the
    field is declared here rather than as a class attribute."""

    def get_fields(self) -> dict:
        return {"with": serializers.IntegerField(
            min_value=1, max_value=2**63 - 1, required=False,
            help_text="Id of the release of the same agent to compare with. Default: the "
                      "agent's release numbered just before this one (as its page shows).")}


class ComparedReleaseSerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="display_version",
                                    help_text="Its label, or #number without one.")

    class Meta:
        model = Release
        fields = ["id", "number", "version"]
        read_only_fields = fields


class ComponentChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(COMPONENT_MODELS))
    # The metaclass moves declared fields off the class, so these do not replace Field.label
    # and Serializer.fields.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The kind as people read it, e.g. tool.")
    name = serializers.CharField()
    change = serializers.ChoiceField(choices=["added", "removed", "changed"])
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(),
        help_text="changed: the manifest fields that changed (empty otherwise).")
    field_labels = serializers.ListField(child=serializers.CharField(),
                                         help_text="The same fields as people read them.")
    before = serializers.DictField(allow_null=True,
                                   help_text="Its manifest entry in the release compared with; "
                                             "null when added.")
    after = serializers.DictField(allow_null=True,
                                  help_text="Its manifest entry in this release; null when "
                                            "removed.")
    reassessment = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why the change needs a risk reassessment; empty when it does not.")
    text_diff = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        help_text="A changed prompt: a unified diff of its text, line by line.")


class ConfigurationChangeSerializer(serializers.Serializer):
    key = serializers.CharField()
    before = serializers.JSONField(allow_null=True,
                                   help_text="In the release compared with; null when unset.")
    after = serializers.JSONField(allow_null=True, help_text="In this release; null when unset.")


class ReleaseDiffSerializer(serializers.Serializer):
    old = ComparedReleaseSerializer(help_text="The release compared with (`with`).")
    new = ComparedReleaseSerializer(help_text="This release.")
    needs_reassessment = serializers.BooleanField(
        help_text="Whether any change alters the agent's risk (a risk reassessment is due).")
    components = ComponentChangeSerializer(many=True)
    configuration = serializers.SerializerMethodField()

    @extend_schema_field(ConfigurationChangeSerializer(many=True))
    def get_configuration(self, diff) -> list[dict]:
        return [{"key": key, "before": before, "after": after}
                for key, before, after in diff.configuration]


def _compared_with(request, release: Release) -> Release:
    """The release named by `with` (among those the user may see, else 404), or the one
    before this release; a 400 naming `with` when there is none, or it cannot be compared."""
    chosen = validated_query(ReleaseCompareQuerySerializer, request).get("with")
    if chosen is None:
        other = selectors.release_before(release)
        if other is None:
            raise DomainError(f"Release {release.display_version} is the agent's first: name "
                              "a release to compare it with.", field="with")
        return other
    other = releases_visible_to(request.user).filter(pk=chosen).first()
    if other is None:
        raise NotFound("No release you may see has the id given as `with`.")
    refusal = comparison_refusal(other, release)
    if refusal:
        raise DomainError(refusal, field="with")
    return other


@extend_schema(tags=["releases"])
@extend_schema_view(
    list=extend_schema(summary="Releases of the agents you may see"),
    retrieve=extend_schema(summary="One release, with its manifest"),
)
class ReleaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilter
    filter_backends = [DjangoFilterBackend, SortOrdering]
    sorts, default_sort = RELEASE_SORTS, DEFAULT_SORT  # the columns the page sorts by
    queryset = Release.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Release.objects.none()
        return releases_visible_to(signed_in(self.request.user))

    @extend_schema(summary="Draft a release of an accepted agent",
                   request=ReleaseCreateSerializer, responses={201: ReleaseSerializer})
    def create(self, request):
        data = validated(ReleaseCreateSerializer, request)
        release = services.release_create(actor=request.user, **data)
        return Response(self.get_serializer(release).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a draft release (a submitted release is frozen: 409)",
                   request=ReleaseWriteSerializer, responses=ReleaseSerializer)
    def partial_update(self, request, pk=None):
        release = self.get_object()
        data = validated(ReleaseWriteSerializer, request)
        release = services.release_update(actor=request.user, release=release, **data)
        return Response(self.get_serializer(release).data)

    @extend_schema(summary="One action on many checklist items: all done, or none (each "
                           "refused item listed under errors.items)", tags=["readiness"],
                   request=ChecklistBulkSerializer, responses=ChecklistItemSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="checklist")
    def checklist(self, request, pk=None):
        release = self.get_object()
        data = validated(ChecklistBulkSerializer, request)
        ids = data.pop("items")
        items = list(release.checklist_items.filter(pk__in=ids))
        if len(items) != len(set(ids)):
            raise DomainError("Choose items of this release only.", field="items")
        done = services.checklist_bulk(actor=request.user, release=release, items=items,
                                       **data)
        fresh = selectors.checklist_items_visible_to(request.user).filter(
            pk__in=[i.pk for i in done]).prefetch_related("evidence__uploaded_by")
        return Response(ChecklistItemSerializer(fresh, many=True).data)

    @extend_schema(summary="What changed from another release of the agent to this one (by "
                           "default the release before), and which changes need a risk "
                           "reassessment", parameters=[ReleaseCompareQuerySerializer],
                   responses=ReleaseDiffSerializer)
    @action(detail=True, methods=["get"])
    def compare(self, request, pk=None):
        release = self.get_object()
        diff = release_diff(_compared_with(request, release), release)
        return Response(ReleaseDiffSerializer(diff).data)

    @extend_schema(summary="Freeze the manifest and submit the release for sign-off",
                   request=ReasonSerializer, responses=ReleaseSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        release = self.get_object()
        reason = validated(ReasonSerializer, request)["reason"]
        release = services.release_submit(actor=request.user, release=release, reason=reason)
        return Response(self.get_serializer(release).data)
