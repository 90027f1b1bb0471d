"""The table of reciprocal commitments (seed 002): one row per service in interaction.

A row taken from a map actor is tied to it by a `workshops.trace` link (actor →
row): the board reads the actor's current name through the registry, so a
renamed actor renames its row, and a deleted one leaves the row, marked
deleted, with the name the link kept. Nothing written in a row is ever lost.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_printable, validate_printable_line

LABEL_MAX_LENGTH = 120
CELL_MAX_LENGTH = 500
FEEDBACK_MAX_LENGTH = 1000
MAX_ROWS = 40
# A pair per interface (seed 002, step 6).
HOLDERS_PER_ROW = 2


class Row(models.Model):
    class Field(models.TextChoices):
        EXPECTS_FROM_US = "expects_from_us", _("Service X expects from us")
        WE_COMMIT = "we_commit", _("We commit to")
        WE_EXPECT = "we_expect", _("We expect from service X")
        THEY_COMMIT = "they_commit", _("X commits to")
        ACCEPTABLE = "acceptable", _("Acceptable")
        UNACCEPTABLE = "unacceptable", _("Unacceptable")

    # The table's three columns, and the fourth that opens when the service is in the room.
    TABLE = (Field.EXPECTS_FROM_US, Field.WE_COMMIT, Field.WE_EXPECT)
    PAIR = (Field.ACCEPTABLE, Field.UNACCEPTABLE)

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="reciprocal_rows")
    label = models.CharField(
        _("service"), max_length=LABEL_MAX_LENGTH, validators=[validate_printable_line]
    )
    position = models.PositiveIntegerField(default=0)
    expects_from_us = models.TextField(
        max_length=CELL_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    we_commit = models.TextField(
        max_length=CELL_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    we_expect = models.TextField(
        max_length=CELL_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    they_commit = models.TextField(
        max_length=CELL_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    acceptable = models.TextField(
        max_length=CELL_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    unacceptable = models.TextField(
        max_length=CELL_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    # After the workshop (seed 002, steps 7 and 8): the pair met the interface.
    met = models.BooleanField(default=False)
    met_on = models.DateField(null=True, blank=True)
    feedback = models.TextField(
        max_length=FEEDBACK_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(met=True) | Q(met_on__isnull=True), name="row_met_on_only_when_met"
            ),
        ]

    def __str__(self):
        return self.label

    def trace_label(self):
        return str(_("Interface: %(service)s") % {"service": self.label})

    def write(self, field, text):
        setattr(self, field, text)

    def record_meeting(self, met, met_on, feedback):
        self.met = met
        self.met_on = met_on if met else None
        self.feedback = feedback


class Holder(models.Model):
    """A participant of the pair that took a row (at most one row each per stage)."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    row = models.ForeignKey(Row, on_delete=models.CASCADE, related_name="holders")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "participant"], name="holder_one_row"),
        ]

    def __str__(self):
        return f"{self.participant} · {self.row}"
