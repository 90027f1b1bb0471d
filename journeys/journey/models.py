"""The journey: situations × steps × perspectives, post-its in its cells, emotions per step.

A journey stage may mirror an earlier one (`stage.config["mirror"]` names the
source's `config["key"]`): it then walks the source's steps and situations, and
only its post-its and emotions are its own.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_key, validate_printable, validate_printable_line

NAME_MAX_LENGTH = 80
PERSPECTIVE_KEY_MAX_LENGTH = 40


class Phase(models.TextChoices):
    NONE = "", _("No phase")
    BEFORE = "before", _("Before")
    DURING = "during", _("During")
    AFTER = "after", _("After")


class Mark(models.TextChoices):
    """The seed's three colours; each also has its icon and its words."""

    GREEN = "green", _("Smooth interaction")
    ORANGE = "orange", _("Misunderstanding or unclear")
    RED = "red", _("Friction, blockage, tension")


MARK_ICONS = {"green": "✔", "orange": "◆", "red": "✖"}


class Feeling(models.IntegerChoices):
    VERY_BAD = -2, _("Very bad")
    BAD = -1, _("Bad")
    NEUTRAL = 0, _("Neutral")
    GOOD = 1, _("Good")
    VERY_GOOD = 2, _("Very good")


FEELING_FACES = {-2: "😣", -1: "🙁", 0: "😐", 1: "🙂", 2: "😄"}


class Situation(models.Model):
    """A situation type the room walks through ("Alerte client")."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="situations")
    name = models.CharField(
        _("situation"), max_length=NAME_MAX_LENGTH, validators=[validate_printable_line]
    )
    position = models.PositiveIntegerField(default=0)
    # A participant's proposal, until the facilitator adopts it.
    proposed = models.BooleanField(default=False)
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class Step(models.Model):
    """One moment of the journey, in order, maybe in a phase, maybe a moment of truth."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="journey_steps")
    name = models.CharField(
        _("step"), max_length=NAME_MAX_LENGTH, validators=[validate_printable_line]
    )
    position = models.PositiveIntegerField(default=0)
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, blank=True)
    moment_of_truth = models.BooleanField(_("moment of truth"), default=False)
    proposed = models.BooleanField(default=False)
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(phase__in=[*Phase.values]), name="journey_step_phase_known"
            ),
        ]

    def __str__(self):
        return self.name


class JourneyPostIt(models.Model):
    """A post-it in a cell: (situation, step, perspective), green, orange or red."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="journey_postits")
    situation = models.ForeignKey(Situation, on_delete=models.CASCADE, related_name="postits")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="postits")
    perspective = models.CharField(max_length=PERSPECTIVE_KEY_MAX_LENGTH, validators=[validate_key])
    colour = models.CharField(max_length=10, choices=Mark.choices)
    text = models.TextField(max_length=500, validators=[validate_printable])
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    op_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(colour__in=Mark.values), name="journey_postit_colour_known"
            ),
        ]

    def __str__(self):
        return self.text[:40]

    @property
    def icon(self):
        return MARK_ICONS.get(self.colour, "●")

    def get_colour_meaning(self):
        return self.get_colour_display()

    def trace_label(self):
        """ "Alerte client · étape 3 · côté client", and what it says (plain text)."""
        from .grid import perspective_label, step_number

        text = " ".join(self.text.split())
        text = text if len(text) <= 60 else text[:59] + "…"
        where = _("step %(number)s") % {"number": step_number(self.step)}
        side = perspective_label(self.stage, self.perspective)
        return f"{self.situation.name} · {where} · {side} · « {text} » {self.icon}"


class Emotion(models.Model):
    """How a step felt to one participant from one perspective: −2 to +2, one rating each."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="journey_emotions")
    situation = models.ForeignKey(Situation, on_delete=models.CASCADE, related_name="emotions")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="emotions")
    perspective = models.CharField(max_length=PERSPECTIVE_KEY_MAX_LENGTH, validators=[validate_key])
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    value = models.SmallIntegerField(choices=Feeling.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=-2) & Q(value__lte=2), name="journey_emotion_in_scale"
            ),
            models.UniqueConstraint(
                fields=["stage", "participant", "situation", "step", "perspective"],
                name="one_emotion_per_person_step_side",
            ),
        ]

    def __str__(self):
        return f"{self.value:+d}"
