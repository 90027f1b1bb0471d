"""The journey's settings in the stage editor (StageKind.config_form): its perspectives
(the swimlanes), the rupture threshold, and which earlier journey it mirrors (by the
source's config "key": a source without one gets a slug of its title, in the same write,
through `other_configs`)."""

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from workshops.forms import PrintableTextMixin
from workshops.models import Stage
from workshops.text import normalise

from . import grid
from .models import PERSPECTIVE_KEY_MAX_LENGTH

MAX_PERSPECTIVES = 4
LABEL_MAX_LENGTH = 60
KEY_MAX_LENGTH = 40


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

    journey_mirror = forms.CharField(
        label=_("Journey: mirrors the journey"),
        required=False,
        widget=forms.Select(),
        help_text=_(
            "A mirror walks the same situations, steps and moments of truth as an earlier "
            "journey, with its own post-its and ratings, and compares both."
        ),
    )

    def __init__(self, *args, config=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = config or {}
        self.stage = None
        self.journeys = []
        self.fields["journey_mirror"].widget.choices = [("", _("None: its own steps"))]
        if config is not None:
            self.fields["journey_perspectives"].initial = "\n".join(
                str(p["label"]) for p in grid.perspectives_of_config(config)
            )
            self.fields["journey_threshold"].initial = round(100 * grid.threshold_of_config(config))

    def for_stage(self, stage):
        """The journeys this stage may mirror: the earlier ones of its workshop."""
        self.stage = stage
        if stage.workshop_id is None:
            return
        self.journeys = list(
            Stage.objects.filter(workshop_id=stage.workshop_id).exclude(pk=stage.pk or 0)
        )
        earlier = [
            s
            for s in self.journeys
            if s.kind == grid.KIND and (stage.pk is None or s.position <= stage.position)
        ]
        self.fields["journey_mirror"].widget.choices += [(str(s.pk), s.title) for s in earlier]
        self.fields["journey_mirror"].initial = self._initial_mirror()

    def _initial_mirror(self):
        mirror = self.config.get("mirror")
        found = next(
            (s for s in self.journeys if s.kind == grid.KIND and _key(s) == mirror and mirror),
            None,
        )
        return str(found.pk) if found else ""

    def clean_journey_mirror(self):
        """The source chosen, or None; refused: itself, not a journey, a later one, a cycle."""
        value = self.cleaned_data.get("journey_mirror") or ""
        if value == (self.fields["journey_mirror"].initial or ""):
            return "unchanged"
        if not value:
            return None
        if self.stage is not None and value == str(self.stage.pk):
            raise forms.ValidationError(_("A journey cannot mirror itself."))
        source = next((s for s in self.journeys if str(s.pk) == value), None)
        if source is None:
            raise forms.ValidationError(_("This stage is not in this workshop any more."))
        if source.kind != grid.KIND:
            raise forms.ValidationError(
                _("« %(title)s » is not a journey: only a journey can be mirrored.")
                % {"title": source.title}
            )
        if self.stage is not None and self.stage.pk and source.position > self.stage.position:
            raise forms.ValidationError(
                _("« %(title)s » comes later: a journey mirrors an earlier one.")
                % {"title": source.title}
            )
        own_key = self.config.get("key")
        if own_key and (source.config or {}).get("mirror") == own_key:
            raise forms.ValidationError(
                _("« %(title)s » mirrors this journey: they would mirror each other.")
                % {"title": source.title}
            )
        if (source.config or {}).get("mirror"):
            raise forms.ValidationError(
                _("« %(title)s » is itself a mirror: choose the journey it mirrors.")
                % {"title": source.title}
            )
        mirrored_by = next(
            (
                s
                for s in self.journeys
                if s.kind == grid.KIND and own_key and (s.config or {}).get("mirror") == own_key
            ),
            None,
        )
        if mirrored_by is not None:
            raise forms.ValidationError(
                _("« %(title)s » mirrors this journey: a mirrored journey cannot be a mirror.")
                % {"title": mirrored_by.title}
            )
        return source

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("journey_mirror", "unchanged") != "unchanged":
            self._refuse_if_written()
        return cleaned

    def _refuse_if_written(self):
        """Post-its and ratings sit on the steps walked: another source would strand them."""
        from .models import Emotion, JourneyPostIt

        stage = self.stage
        if stage is None or not stage.pk:
            return
        if JourneyPostIt.objects.filter(stage=stage).exists() or (
            Emotion.objects.filter(stage=stage).exists()
        ):
            self.add_error(
                "journey_mirror",
                _(
                    "This journey already has post-its or ratings on its steps: "
                    "which journey it mirrors can no longer change."
                ),
            )

    def _source_key(self, source):
        """The source's key, or a new one (a slug of its title, free in the workshop)."""
        if _key(source):
            return _key(source)
        taken = {_key(s) for s in self.journeys} | {self.config.get("key")}
        base = slugify(source.title)[: KEY_MAX_LENGTH - 4] or "journey"
        key, number = base, 2
        while key in taken:
            key, number = f"{base}-{number}", number + 1
        return key

    def other_configs(self):
        """What the chosen source needs in its config, written with this stage: its key."""
        source = self.cleaned_data.get("journey_mirror")
        if not isinstance(source, Stage) or _key(source):
            return {}
        return {source.pk: {"key": self._source_key(source)}}

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
        source = self.cleaned_data.get("journey_mirror")
        if source is None:
            config.pop("mirror", None)
        elif isinstance(source, Stage):
            config["mirror"] = self._source_key(source)
        return config


def _key(stage):
    key = (stage.config or {}).get("key")
    return key if isinstance(key, str) else ""
