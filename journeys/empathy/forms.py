"""The empathy map's persona in the stage editor (StageKind.config_form)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from workshops.forms import PrintableTextMixin


class EmpathyConfigForm(PrintableTextMixin, forms.Form):
    persona_name = forms.CharField(
        label=_("Empathy map: the persona's name"), max_length=60, required=False
    )
    persona_role = forms.CharField(
        label=_("Empathy map: their role"), max_length=80, required=False
    )
    persona_sentence = forms.CharField(
        label=_("Empathy map: their situation, in one sentence"), max_length=200, required=False
    )

    def __init__(self, *args, config=None, **kwargs):
        super().__init__(*args, **kwargs)
        persona = (config or {}).get("persona") or {}
        if isinstance(persona, dict):
            for key in ("name", "role", "sentence"):
                self.fields[f"persona_{key}"].initial = persona.get(key, "")

    def apply(self, base):
        config = dict(base or {})
        config["persona"] = {
            key: self.cleaned_data.get(f"persona_{key}", "") for key in ("name", "role", "sentence")
        }
        return config
