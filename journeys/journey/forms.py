"""The journey's settings in the stage editor (StageKind.config_form): its perspectives
(the swimlanes) and the rupture threshold. Which journey a stage mirrors is set by the
method (config "key" and "mirror") and kept as it is."""

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from workshops.forms import PrintableTextMixin
from workshops.text import normalise

from . import grid
from .models import PERSPECTIVE_KEY_MAX_LENGTH

MAX_PERSPECTIVES = 4
LABEL_MAX_LENGTH = 60


class JourneyConfigForm(PrintableTextMixin, forms.Form):
    journey_perspectives = forms.CharField(
        label=_("Journey: its perspectives"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One perspective (swimlane) per line, one to four: “Client’s side”. "
            "A renamed line keeps its post-its."
        ),
    )
    journey_threshold = forms.IntegerField(
        label=_("Journey: rupture threshold (%)"),
        required=False,
        min_value=50,
        max_value=100,
        help_text=_(
            "A step is a zone of rupture when, on that step, one side’s post-its are at least "
            "this share green and another side’s at least this share red."
        ),
    )

    def __init__(self, *args, config=None, **kwargs):
        super().__init__(*args, **kwargs)
        if config is not None:
            self.fields["journey_perspectives"].initial = "\n".join(
                str(p["label"]) for p in grid.perspectives_of_config(config)
            )
            self.fields["journey_threshold"].initial = round(100 * grid.threshold_of_config(config))

    def clean_journey_perspectives(self):
        labels = [
            normalise(line, multiline=False)[:LABEL_MAX_LENGTH]
            for line in self.cleaned_data.get("journey_perspectives", "").splitlines()
        ]
        labels = [label for label in labels if label]
        if len(labels) > MAX_PERSPECTIVES:
            raise forms.ValidationError(_("A journey has one to four perspectives."))
        return labels

    def apply(self, base):
        """The stage config with the edited perspectives and threshold (other keys kept)."""
        config = dict(base or {})
        labels = self.cleaned_data.get("journey_perspectives")
        if labels:
            # Line i keeps the key of perspective i: its post-its and ratings stay on it.
            previous = [p["key"] for p in grid.perspectives_of_config(config)]
            perspectives, taken = [], set()
            for index, label in enumerate(labels):
                key = previous[index] if index < len(previous) else ""
                if not key or key in taken:
                    key = slugify(label)[:PERSPECTIVE_KEY_MAX_LENGTH] or f"side{index + 1}"
                    while key in taken:
                        key = key[: PERSPECTIVE_KEY_MAX_LENGTH - 2] + "-2"
                taken.add(key)
                perspectives.append({"key": key, "label": label})
            config["perspectives"] = perspectives
        threshold = self.cleaned_data.get("journey_threshold")
        if threshold is not None:
            config["rupture_threshold"] = threshold / 100
        return config
