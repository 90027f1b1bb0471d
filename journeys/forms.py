"""The wall's settings in the stage editor (StageKind.config_form)."""

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from workshops.text import normalise

from .models import COLUMN_LABEL_MAX_LENGTH, Colour

COLOURS = tuple(Colour.values)
MAX_COLUMNS = 8


class WallConfigForm(forms.Form):
    """A wall's columns: one per line, optionally with a colour ("Tensions | red")."""

    columns_text = forms.CharField(
        label=_("Columns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('One column per line, optionally with a colour: "Tensions | red". Colours: %s.')
        % ", ".join(COLOURS),
    )

    def __init__(self, *args, config=None, **kwargs):
        super().__init__(*args, **kwargs)
        if config:
            self.fields["columns_text"].initial = "\n".join(
                f"{c.get('label', c['key'])} | {c.get('colour', 'yellow')}"
                for c in config.get("columns", [])
            )

    def clean_columns_text(self):
        columns, keys = [], set()
        for line in self.cleaned_data.get("columns_text", "").splitlines():
            if not line.strip():
                continue
            label, _sep, colour = line.partition("|")
            label = normalise(label, multiline=False)[:COLUMN_LABEL_MAX_LENGTH]
            colour = colour.strip().lower() or "yellow"
            if colour not in COLOURS:
                raise forms.ValidationError(_("Unknown colour: %(colour)s.") % {"colour": colour})
            key = slugify(label)[:30] or f"col{len(columns) + 1}"
            while key in keys:
                key += "-2"
            keys.add(key)
            columns.append({"key": key, "label": label, "colour": colour})
        if len(columns) > MAX_COLUMNS:
            raise forms.ValidationError(_("Eight columns at most."))
        return columns

    def apply(self, base):
        """The stage config with the edited columns (other keys kept)."""
        config = dict(base or {})
        columns = self.cleaned_data.get("columns_text")
        if columns:
            # Line i keeps the key of column i, so a renamed column keeps its post-its.
            previous = [c["key"] for c in config.get("columns", [])]
            taken = set()
            for index, column in enumerate(columns):
                if index < len(previous) and previous[index] not in taken:
                    column["key"] = previous[index]
                taken.add(column["key"])
            config["columns"] = columns
        return config
