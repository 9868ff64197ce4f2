"""The aging filter form: shape here, meaning in the engine's `check_params`."""

from __future__ import annotations

from django import forms

from ledger.models import LegalEntity
from otc import dates
from otc.errors import DomainError
from otc.forms import bootstrap_style

from .engine import DIMENSIONS, AgingParams, check_params


class AgingForm(forms.Form):
    as_of = forms.DateField(label="As of", widget=forms.DateInput(attrs={"type": "date"}), required=False)
    entity = forms.ModelChoiceField(LegalEntity.objects.order_by("code"), required=False, empty_label="All entities")
    currency = forms.CharField(max_length=3, required=False, widget=forms.TextInput(attrs={"size": 4, "placeholder": "all"}))
    group_by = forms.ChoiceField(label="Group by", required=False, choices=())
    basis = forms.ChoiceField(label="Age by", required=False, choices=[("due", "Due date"), ("document", "Document date")])
    by = forms.ChoiceField(label="Bucket", required=False,
                           choices=[("document", "Each document"), ("customer", "Customer's oldest overdue")])
    net = forms.BooleanField(label="Net credits & cash", required=False)
    buckets = forms.CharField(required=False, label="Buckets (days)",
                              widget=forms.TextInput(attrs={"placeholder": "entity's own", "size": 22}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group_by"].choices = [(d.name, d.title) for d in DIMENSIONS.values()]
        bootstrap_style(self, small=True)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        params = AgingParams(
            as_of=data.get("as_of") or dates.today(), basis=data.get("basis") or "due", by=data.get("by") or "document",
            group_by=data.get("group_by") or "customer", net=bool(data.get("net")),
            legal_entity_id=data["entity"].id if data.get("entity") else None,
            currency=(data.get("currency") or "").upper() or None, buckets=(data.get("buckets") or "").strip() or None,
        )
        try:
            data["params"] = check_params(params)
        except DomainError as exc:
            named = False
            for name in exc.fields:
                target = {"entity": "entity"}.get(name, name)
                if target in self.fields:
                    self.add_error(target, exc.message)
                    named = True
            if not named:
                self.add_error(None, exc.message)
        return data
