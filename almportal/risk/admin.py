"""Django admin for the questionnaire, the framework clauses and the tier policies. Saves go
through risk.services, so the admin follows the same rules and leaves the same history."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Max
from simple_history.admin import SimpleHistoryAdmin

from ..core.admin import PortalAdmin
from ..core.errors import DomainError
from . import services
from .models import AnswerOption, Assessment, FrameworkClause, Question, Questionnaire, TierPolicy

FROZEN_MESSAGE = ("Version {version} is published and frozen: assessments record the version "
                  "they used. Use the action “Copy as a new version” to change it.")


def _add_errors(form, error: DomainError) -> None:
    for field, messages_ in error.errors.items():
        form.add_error(field if field in form.fields else None, messages_)


@admin.register(FrameworkClause)
class FrameworkClauseAdmin(SimpleHistoryAdmin):
    list_display = ("code", "framework", "ref", "title")
    list_filter = ("framework",)
    search_fields = ("code", "ref", "title")

    def save_model(self, request, obj, form, change):
        services.clause_save(actor=request.user, clause=obj)


# --- Questionnaire -------------------------------------------------------------------------

def _editable(questionnaire: Questionnaire | None) -> bool:
    return questionnaire is None or not questionnaire.is_published


class ContentSavedByService(PortalAdmin):
    """Inline rows (questions, answer options) saved one by one through the service."""

    def save_formset(self, request, form, formset, change):
        if formset.model not in (Question, AnswerOption):
            return super().save_formset(request, form, formset, change)
        for item in formset.save(commit=False):
            services.questionnaire_content_save(actor=request.user, item=item)
        for item in formset.deleted_objects:
            services.questionnaire_content_delete(actor=request.user, item=item)
        formset.save_m2m()


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ("order", "key", "topic", "text", "prefill")
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


class QuestionnaireForm(forms.ModelForm):
    """The admin's questionnaire form: tier thresholds and rules the service would refuse are
    form errors."""

    def _post_clean(self):
        super()._post_clean()  # type: ignore[misc]  # django-stubs leave out this Django hook
        try:
            services.validate_questionnaire_settings(
                tier_thresholds=self.instance.tier_thresholds, rules=self.instance.rules)
        except DomainError as error:
            _add_errors(self, error)


@admin.register(Questionnaire)
class QuestionnaireAdmin(ContentSavedByService, SimpleHistoryAdmin):
    form = QuestionnaireForm
    list_display = ("version", "title", "published_at", "assessment_count")
    readonly_fields = ("published_at",)
    inlines = [QuestionInline]
    actions = ["copy_as_new_version", "publish"]

    @admin.display(description="assessments")
    def assessment_count(self, obj) -> int:
        return obj.assessments.count()

    def get_changeform_initial_data(self, request):
        latest = Questionnaire.objects.aggregate(v=Max("version"))["v"] or 0
        return {"version": latest + 1, **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_published or obj.assessments.exists()):
            return False
        return super().has_delete_permission(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and obj.is_published and request.method == "GET":
            self.message_user(request, FROZEN_MESSAGE.format(version=obj.version),
                              messages.INFO)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        services.questionnaire_save(actor=request.user, questionnaire=obj,
                                    reason="Edited in admin" if change else "Created in admin")

    def delete_model(self, request, obj):
        obj._history_user, obj._change_reason = request.user, "Deleted in admin"
        obj.delete()

    @admin.action(description="Copy as a new version (unpublished, editable)")
    def copy_as_new_version(self, request, queryset):
        for questionnaire in queryset:
            copy = services.questionnaire_copy(actor=request.user, questionnaire=questionnaire)
            self.message_user(request, f"Version {copy.version} created from version "
                                       f"{questionnaire.version}.")

    @admin.action(description="Publish (new assessments use it; it can no longer change)")
    def publish(self, request, queryset):
        for questionnaire in queryset:
            try:
                services.questionnaire_publish(actor=request.user, questionnaire=questionnaire)
            except DomainError as error:
                self.message_user(request, f"Version {questionnaire.version}: {error.message}",
                                  messages.ERROR)
            else:
                self.message_user(request, f"Version {questionnaire.version} published.")


class AnswerOptionInline(admin.TabularInline):
    model = AnswerOption
    fields = ("order", "key", "label", "weight", "minimum_tier", "prohibited", "prefill_value",
              "clauses")
    extra = 0

    def _editable(self, obj) -> bool:
        return obj is None or _editable(obj.questionnaire)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Question)
class QuestionAdmin(ContentSavedByService, SimpleHistoryAdmin):
    list_display = ("key", "text", "questionnaire", "topic", "order")
    list_filter = ("questionnaire", "topic")
    filter_horizontal = ("clauses",)
    inlines = [AnswerOptionInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "questionnaire":
            kwargs["queryset"] = Questionnaire.objects.filter(published_at__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return (obj is None or _editable(obj.questionnaire)) and super().has_change_permission(
            request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or _editable(obj.questionnaire)) and super().has_delete_permission(
            request, obj)

    def save_model(self, request, obj, form, change):
        services.questionnaire_content_save(actor=request.user, item=obj)

    def delete_model(self, request, obj):
        services.questionnaire_content_delete(actor=request.user, item=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.questionnaire_content_delete(actor=request.user, item=obj)


# --- Tier policy ---------------------------------------------------------------------------

class TierPolicyForm(forms.ModelForm):
    reason = forms.CharField(max_length=1000, help_text="Why the policy changes; kept in its "
                                                        "history.")

    class Meta:
        model = TierPolicy
        fields = ["tier", "description", "checklist_template", "signoff_roles", "signoff_order",
                  "evaluation_thresholds", "regression_margin", "access_review_days",
                  "reassessment_days", "dormancy_days", "monitoring_thresholds"]

    def _post_clean(self):
        super()._post_clean()  # type: ignore[misc]  # django-stubs leave out this Django hook
        try:
            services.validate_tier_policy(self.instance)
        except DomainError as error:
            _add_errors(self, error)


@admin.register(TierPolicy)
class TierPolicyAdmin(SimpleHistoryAdmin):
    form = TierPolicyForm
    list_display = ("tier", "reassessment_days", "access_review_days", "dormancy_days",
                    "signoffs", "updated_at")

    @admin.display(description="sign-offs")
    def signoffs(self, obj) -> str:
        return ", ".join(f"{role} × {n}" for role, n in obj.signoff_roles.items()) or "—"

    def get_readonly_fields(self, request, obj=None):
        return ("tier",) if obj else ()

    def has_add_permission(self, request):
        return False  # one policy per tier, seeded

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.tier_policy_update(actor=request.user, policy=obj,
                                    reason=form.cleaned_data["reason"])


# --- Assessments: read-only here, made in the portal ---------------------------------------

@admin.register(Assessment)
class AssessmentAdmin(SimpleHistoryAdmin):
    list_display = ("pk", "agent", "state", "score", "computed_tier", "tier", "completed_at")
    list_filter = ("state", "tier")
    search_fields = ("agent__name", "agent__slug")
    list_select_related = ("agent",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
