"""The tension matrix (seed 000, step 4): tensions, their causes and opportunities.

A tension is written fresh or promoted from an item of another stage (a red
post-it, a flow in friction): the `workshops.trace` link keeps where it came
from. A cause carries one of the seed's kinds; participants say "me too" on
a cause once each. An opportunity can be reworded as a "Comment
pourrions-nous… ?" challenge, which the later stages (ideas, votes) start from.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_printable

TENSION_MAX_LENGTH = 500
CAUSE_MAX_LENGTH = 300
OPPORTUNITY_MAX_LENGTH = 300
CHALLENGE_MAX_LENGTH = 300


class CauseKind(models.TextChoices):
    # The seed's three questions, and a way out.
    IMPLICIT = "implicit", _("Implicit expectation")
    UNSHARED = "unshared", _("Unshared obligation")
    DEPENDENCY = "dependency", _("Excess of dependency")
    CONTROL = "control", _("Excess of control")
    OTHER = "other", _("Other")


# Colour is never the only signal: each kind has its own icon too.
CAUSE_ICONS = {
    "implicit": "?",
    "unshared": "≠",
    "dependency": "⇉",
    "control": "⊗",
    "other": "…",
}


def _short(text, size=60):
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


class Tension(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="tensions")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="tensions")
    text = models.TextField(
        _("tension"), max_length=TENSION_MAX_LENGTH, validators=[validate_printable]
    )
    # No author: written (or promoted) by the facilitator.
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="tensions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return _short(self.text, 40)

    def trace_label(self):
        return f"{_('Tension')} · « {_short(self.text)} »"


class Cause(models.Model):
    tension = models.ForeignKey(Tension, on_delete=models.CASCADE, related_name="causes")
    kind = models.CharField(
        _("kind of cause"), max_length=12, choices=CauseKind.choices, default=CauseKind.OTHER
    )
    text = models.TextField(
        _("cause"), max_length=CAUSE_MAX_LENGTH, validators=[validate_printable]
    )
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="causes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=CauseKind.values), name="cause_kind_known"
            ),
        ]

    def __str__(self):
        return _short(self.text, 40)

    @property
    def stage(self):
        return self.tension.stage

    @property
    def icon(self):
        return CAUSE_ICONS.get(self.kind, "…")

    def trace_label(self):
        return f"{_('Cause')} · {self.get_kind_display()} · « {_short(self.text)} »"


class MeToo(models.Model):
    """A participant says "me too" on a cause: once each (the constraint says so)."""

    cause = models.ForeignKey(Cause, on_delete=models.CASCADE, related_name="me_toos")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="me_toos")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cause", "participant"], name="me_too_once"),
        ]

    def __str__(self):
        return f"{self.participant_id} → {self.cause_id}"


class Opportunity(models.Model):
    tension = models.ForeignKey(Tension, on_delete=models.CASCADE, related_name="opportunities")
    text = models.TextField(
        _("opportunity"), max_length=OPPORTUNITY_MAX_LENGTH, validators=[validate_printable]
    )
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "opportunities"

    def __str__(self):
        return _short(self.text, 40)

    @property
    def stage(self):
        return self.tension.stage

    def trace_label(self):
        return f"{_('Opportunity')} · « {_short(self.text)} »"


class Challenge(models.Model):
    """An opportunity reworded as "Comment pourrions-nous… ?": where ideas start."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="challenges"
    )
    text = models.TextField(
        _("challenge"), max_length=CHALLENGE_MAX_LENGTH, validators=[validate_printable]
    )
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="challenges"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return _short(self.text, 40)

    @property
    def stage(self):
        return self.opportunity.tension.stage

    def trace_label(self):
        return f"{_('Challenge')} · « {_short(self.text)} »"
