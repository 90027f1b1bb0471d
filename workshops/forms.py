from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from .models import MAX_TIMER_MINUTES, SHORT_CODE_LENGTH, Participant, Profile, Stage, Workshop
from .registry import all_kinds, get_kind, kind_choices
from .text import normalise


def one_char_line_breaks(data):
    """`data` with its CRLF line breaks as LF.

    Browsers send a textarea's line breaks as CRLF, but count each as one
    character against its maxlength; the server counts the same, or text the
    browser let through is refused as too long.
    """

    def lf(value):
        return value.replace("\r\n", "\n") if isinstance(value, str) else value

    copy = data.copy()
    if hasattr(copy, "setlist"):  # a QueryDict: every value of every key
        for key, values in data.lists():
            copy.setlist(key, [lf(value) for value in values])
    else:
        for key, value in data.items():
            copy[key] = lf(value)
    return copy


class PrintableTextMixin:
    """Typed text loses its control and bidi-override characters (see workshops/text.py)."""

    def full_clean(self):
        # Before the fields' own max_length checks run.
        if self.is_bound:
            self.data = one_char_line_breaks(self.data)
        super().full_clean()

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
    """A stage's common fields; each kind adds its own (StageKind.config_form)."""

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

    def __init__(self, *args, workshop=None, **kwargs):
        super().__init__(*args, **kwargs)
        if workshop is not None and self.instance.workshop_id is None:
            self.instance.workshop = workshop  # a new stage: its settings may name its siblings
        self.fields["kind"] = forms.ChoiceField(label=_("Kind"), choices=kind_choices())
        # Setting min_value/max_value after the field is built adds no validator.
        duration = self.fields["duration_minutes"]
        duration.validators += [MinValueValidator(1), MaxValueValidator(MAX_TIMER_MINUTES)]
        duration.widget.attrs.update(min=1, max=MAX_TIMER_MINUTES)
        # The kinds' own settings (the walls' columns, the empathy map's persona): all in the
        # form, each shown only for the kinds it belongs to (`rows`; live.js follows the kind
        # picked), validated and saved only for the kind chosen (`clean`).
        config = self.instance.config if self.instance.pk else None
        self.config_forms = {}
        self.kinds_of_field = {}
        for form_class in dict.fromkeys(k.config_form for k in all_kinds() if k.config_form):
            part = form_class(self.data if self.is_bound else None, config=config)
            if hasattr(part, "for_stage"):  # settings that name other stages (a mirror's source)
                part.for_stage(self.instance)
            self.config_forms[form_class] = part
            self.fields.update(part.fields)
            kinds = " ".join(k.key for k in all_kinds() if k.config_form is form_class)
            self.kinds_of_field.update(dict.fromkeys(part.fields, (kinds, form_class)))

    def current_kind(self):
        if self.is_bound and self.data.get("kind"):
            return self.data["kind"]
        if self.instance.pk:
            return self.instance.kind
        choices = self.fields["kind"].choices
        return self.initial.get("kind") or (choices[0][0] if choices else "")

    def rows(self):
        """(field, the kinds it belongs to or "" for every kind, hidden for the kind shown)."""
        kind = self.current_kind()
        for field in self:
            kinds = self.kinds_of_field.get(field.name, ("", None))[0]
            yield field, kinds, bool(kinds) and kind not in kinds.split()

    def clean(self):
        cleaned = super().clean()
        # Only the chosen kind's settings: another kind's are hidden, an error on them unseen.
        chosen = get_kind(cleaned.get("kind") or "").config_form
        for name, (_kinds, form_class) in self.kinds_of_field.items():
            if form_class is not chosen:
                self.errors.pop(name, None)
        for form_class, part in self.config_forms.items():
            if form_class is not chosen:
                continue
            if part.is_valid():
                cleaned.update(part.cleaned_data)
            else:
                for name, errors in part.errors.items():
                    for error in errors:
                        self.add_error(name, error)
        return cleaned

    def config(self, base):
        """The stage config with the chosen kind's edited settings (other keys kept)."""
        form_class = get_kind(self.cleaned_data["kind"]).config_form
        part = self.config_forms.get(form_class)
        return part.apply(base) if part is not None else dict(base or {})

    def other_configs(self):
        """{stage pk: config entries} the chosen kind's settings need on other stages of the
        workshop, written in the same transaction (a mirrored journey gets its key)."""
        part = self.config_forms.get(get_kind(self.cleaned_data["kind"]).config_form)
        return part.other_configs() if hasattr(part, "other_configs") else {}


class FacilitatorCreationForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), required=False)

    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]
