from django import forms

from ..accounts.models import User
from .models import Decision, ReviewItem


class CertifyForm(forms.Form):
    """One decision and comment per undecided grant; grants left blank stay undecided."""

    CHOICES = [("", "Decide later"), (Decision.KEEP, "Keep"), (Decision.REVOKE, "Revoke")]

    def __init__(self, *args, items: list[ReviewItem], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pending = [item for item in items if item.decision == Decision.PENDING]
        for item in self.pending:
            self.fields[f"decision_{item.pk}"] = forms.ChoiceField(
                label=f"Decision on {item}", choices=self.CHOICES, required=False,
                widget=forms.RadioSelect)
            self.fields[f"comment_{item.pk}"] = forms.CharField(
                label=f"Comment on {item}", required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}))

    def rows(self):
        return [(item, self[f"decision_{item.pk}"], self[f"comment_{item.pk}"])
                for item in self.pending]

    def entries(self) -> list[dict]:
        data = self.cleaned_data
        return [{"item": item.pk, "decision": data[f"decision_{item.pk}"],
                 "comment": data[f"comment_{item.pk}"]}
                for item in self.pending if data.get(f"decision_{item.pk}")]


class TaskCompleteForm(forms.Form):
    note = forms.CharField(label="How the access was cut", max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class ReassignForm(forms.Form):
    new_owner = forms.ModelChoiceField(
        label="New business owner",
        queryset=User.objects.filter(is_active=True, is_service_account=False)
        .order_by("username"))
    reason = forms.CharField(max_length=1000)
