"""The service promise (seed 002, step 8): a short text the room co-writes, the ways of
working that keep it, and the people who chose to sign it.

The text is cut into paragraphs; each is last-writer-wins on its own and says
who changed it last, so two people editing two paragraphs never overwrite
each other.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_printable, validate_printable_line

CLIENT_MAX_LENGTH = 120
PARAGRAPH_MAX_LENGTH = 300
MAX_PARAGRAPHS = 4
COMMITMENT_MAX_LENGTH = 160
MIN_COMMITMENTS = 3
MAX_COMMITMENTS = 5
MAX_PROMISES = 12


class Promise(models.Model):
    """One promise: to one client service, or (client blank) the whole service's."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="promises")
    client = models.CharField(
        _("client service"),
        max_length=CLIENT_MAX_LENGTH,
        blank=True,
        validators=[validate_printable_line],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "client"], name="promise_one_per_client"),
        ]

    def __str__(self):
        return self.client or str(_("The whole service"))

    def trace_label(self):
        return str(_("Promise: %(client)s") % {"client": self})


class Paragraph(models.Model):
    promise = models.ForeignKey(Promise, on_delete=models.CASCADE, related_name="paragraphs")
    position = models.PositiveSmallIntegerField()
    text = models.TextField(
        max_length=PARAGRAPH_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    # Who changed it last: a participant, or nobody for the facilitator.
    edited_by = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["promise", "position"], name="paragraph_position"),
            models.CheckConstraint(
                condition=Q(position__lt=MAX_PARAGRAPHS), name="paragraph_position_max"
            ),
        ]

    def __str__(self):
        return self.text

    def rewrite(self, text, participant):
        """Last writer wins, on this paragraph only."""
        self.text = text
        self.edited_by = participant


class PromiseCommitment(models.Model):
    """A way of working that keeps the promise (three to five per promise)."""

    promise = models.ForeignKey(Promise, on_delete=models.CASCADE, related_name="commitments")
    text = models.CharField(max_length=COMMITMENT_MAX_LENGTH, validators=[validate_printable_line])
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text


class PromiseSignature(models.Model):
    promise = models.ForeignKey(Promise, on_delete=models.CASCADE, related_name="signatures")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["promise", "participant"], name="promise_signature_once"
            ),
        ]

    def __str__(self):
        return f"{self.participant} ✍ {self.promise}"
