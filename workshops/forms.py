from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .models import MAX_TIMER_MINUTES, SHORT_CODE_LENGTH, Participant, Profile, Stage, Workshop
from .registry import kind_choices
from .text import normalise

COLOURS = ("yellow", "green", "orange", "red", "blue", "pink", "purple", "grey")


class PrintableTextMixin:
    """Typed text loses its control and bidi-override characters (see workshops/text.py)."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if not isinstance(value, str):
                continue
            multiline = isinstance(self.fields[name].widget, forms.Textarea)
            value = normalise(value, multiline=multiline)
            if not value and self.fields[name].required:
                self.add_error(name, self.fields[name].error_messages["required"])
            else:
                cleaned[name] = value
        return cleaned


class WorkshopForm(PrintableTextMixin, forms.ModelForm):
    class Meta:
        model = Workshop
        fields = ["title", "observed_service", "perimeter", "intention", "language", "date"]
        widgets = {
            "perimeter": forms.Textarea(attrs={"rows": 2}),
            "intention": forms.Textarea(attrs={"rows": 2}),
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class JoinForm(PrintableTextMixin, forms.ModelForm):
    class Meta:
        model = Participant
        fields = ["display_name", "profile", "organisation"]
        widgets = {"profile": forms.RadioSelect}
        labels = {"display_name": _("Your name (as the room will see it)")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].choices = Profile.choices
        self.fields["organisation"].label = _("Organisation (optional)")

    def clean_display_name(self):
        name = " ".join(normalise(self.cleaned_data["display_name"], multiline=False).split())
        if not name:
            raise forms.ValidationError(_("Enter a name."))
        return name


class JoinCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Workshop code"),
        max_length=SHORT_CODE_LENGTH + 4,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).upper()


class StageForm(PrintableTextMixin, forms.ModelForm):
    columns_text = forms.CharField(
        label=_("Columns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('One column per line, optionally with a colour: "Tensions | red". Colours: %s.')
        % ", ".join(COLOURS),
    )

    class Meta:
        model = Stage
        fields = [
            "title",
            "kind",
            "instructions",
            "duration_minutes",
            "private_writing",
            "anonymous",
        ]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"] = forms.ChoiceField(label=_("Kind"), choices=kind_choices())
        if self.instance.pk:
            self.fields["columns_text"].initial = "\n".join(
                f"{c.get('label', c['key'])} | {c.get('colour', 'yellow')}"
                for c in self.instance.config.get("columns", [])
            )
        # Setting min_value/max_value after the field is built adds no validator.
        duration = self.fields["duration_minutes"]
        duration.validators += [MinValueValidator(1), MaxValueValidator(MAX_TIMER_MINUTES)]
        duration.widget.attrs.update(min=1, max=MAX_TIMER_MINUTES)

    def clean_columns_text(self):
        columns, keys = [], set()
        for line in self.cleaned_data.get("columns_text", "").splitlines():
            if not line.strip():
                continue
            label, _sep, colour = line.partition("|")
            label = normalise(label, multiline=False)[:60]
            colour = colour.strip().lower() or "yellow"
            if colour not in COLOURS:
                raise forms.ValidationError(_("Unknown colour: %(colour)s.") % {"colour": colour})
            key = slugify(label)[:30] or f"col{len(columns) + 1}"
            while key in keys:
                key += "-2"
            keys.add(key)
            columns.append({"key": key, "label": label, "colour": colour})
        if len(columns) > 8:
            raise forms.ValidationError(_("Eight columns at most."))
        return columns

    def config(self, base):
        """The stage config with the edited columns (others keys kept)."""
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


class FacilitatorCreationForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), required=False)

    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]
