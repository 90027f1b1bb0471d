from django.db import models
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_key, validate_printable, validate_printable_line

CLUSTER_NAME_MAX_LENGTH = 80
COLUMN_KEY_MAX_LENGTH = 40
COLUMN_LABEL_MAX_LENGTH = 60


class Colour(models.TextChoices):
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")
    BLUE = "blue", _("Blue")
    PINK = "pink", _("Pink")
    PURPLE = "purple", _("Purple")
    GREY = "grey", _("Grey")


# Colour is never the only signal: each colour has its own shape too.
COLOUR_ICONS = {
    "yellow": "●",
    "green": "✔",
    "orange": "◆",
    "red": "✖",
    "blue": "■",
    "pink": "♥",
    "purple": "★",
    "grey": "▲",
}

# What a colour means where the author picks it (the journey's post-its).
COLOUR_MEANINGS = {
    "green": _("Smooth interaction"),
    "orange": _("Misunderstanding or unclear"),
    "red": _("Friction, blockage, tension"),
}


class Cluster(models.Model):
    """A named theme that the facilitator groups post-its into."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="clusters")
    name = models.CharField(
        _("theme"), max_length=CLUSTER_NAME_MAX_LENGTH, validators=[validate_printable_line]
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


class PostIt(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="postits")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="postits")
    column = models.CharField(max_length=COLUMN_KEY_MAX_LENGTH, validators=[validate_key])
    colour = models.CharField(max_length=10, choices=Colour.choices, default=Colour.YELLOW)
    text = models.TextField(max_length=500, validators=[validate_printable])
    # No author: written by the facilitator.
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="postits"
    )
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="postits"
    )
    op_id = models.CharField(max_length=64, blank=True)
    # A quote, word for word (the empathy map's verbatim): drawn in quote style.
    verbatim = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(colour__in=Colour.values), name="postit_colour_known"
            ),
        ]

    def __str__(self):
        return self.text[:40]

    @property
    def icon(self):
        return COLOUR_ICONS.get(self.colour, "●")

    @property
    def quote(self):
        """A verbatim's words without the quotation marks its author may have typed
        (the board draws its own)."""
        return self.text.strip().lstrip("«“\"'‘ \u00a0").rstrip("»”\"'’ \u00a0") or self.text

    def get_colour_meaning(self):
        return COLOUR_MEANINGS.get(self.colour) or self.get_colour_display()

    def trace_label(self):
        """Where it sits and what it says, for "comes from…" / "led to…" (plain text)."""
        text = " ".join(self.text.split())
        text = text if len(text) <= 60 else text[:59] + "…"
        return f"{self.stage.title} · « {text} » {self.icon}"


# The journey stage kind's models live in their own module (journeys/journey/).
from .journey.models import Emotion, JourneyPostIt, Situation, Step  # noqa: E402, F401

# The tension matrix's models live in their own module (journeys/tensions/).
from .tensions.models import (  # noqa: E402, F401
    Cause,
    CauseKind,
    Challenge,
    MeToo,
    Opportunity,
    Tension,
)
