"""What a review records about one thing the workshop committed to.

A review never rewrites the workshop: the action sheet, the commitment, the
flow's rating and the reciprocal row stay as they were. Each review stage keeps
its own `ReviewEntry` per item (named by `workshops.trace.ref()`), so then and
now sit side by side, and a second review has entries of its own.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage
from workshops.text import validate_printable, validate_printable_line

TEXT_MAX_LENGTH = 1000
REF_MAX_LENGTH = 80
LABEL_MAX_LENGTH = 200


class ActionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class KeptStatus(models.TextChoices):
    KEPT = "kept", _("Kept")
    PARTLY = "partly", _("Partly kept")
    NOT_YET = "not_yet", _("Not yet")
    NOT_KEPT = "not_kept", _("Not kept")


class FlowStatus(models.TextChoices):
    SMOOTH = "smooth", _("Smooth")
    UNCLEAR = "unclear", _("Unclear")
    FRICTION = "friction", _("Friction")


ALL_STATUSES = [*ActionStatus.values, *KeptStatus.values, *FlowStatus.values]


def _text(label):
    return models.TextField(
        label, max_length=TEXT_MAX_LENGTH, blank=True, validators=[validate_printable]
    )


class ReviewEntry(models.Model):
    """One item as a review found it: its status, and what the room wrote about it.

    Each field is written last-writer-wins in server order; `edits` says who wrote
    each one last. `item_label` keeps the item's words as they were when the review
    first wrote about it, so a deleted sheet or flow still reads in the review."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="review_entries")
    item_ref = models.CharField(max_length=REF_MAX_LENGTH, validators=[validate_printable_line])
    item_label = models.CharField(
        max_length=LABEL_MAX_LENGTH, blank=True, validators=[validate_printable_line]
    )
    status = models.CharField(_("status"), max_length=20, blank=True)
    measured = _text(_("value measured"))
    learned = _text(_("what we learned"))
    next_step = _text(_("next step"))
    amendment = _text(_("amendment"))
    edits = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    TEXT_FIELDS = ("measured", "learned", "next_step", "amendment")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "item_ref"], name="review_entry_once"),
            models.CheckConstraint(
                condition=Q(status__in=[*ALL_STATUSES, ""]), name="review_status_known"
            ),
        ]

    def __str__(self):
        return self.item_label or self.item_ref


class Confirmation(models.Model):
    """A signatory of the sheet confirms, on their phone, what the review recorded.

    A later change to the entry takes the confirmations back: they confirmed
    what they read."""

    entry = models.ForeignKey(ReviewEntry, on_delete=models.CASCADE, related_name="confirmations")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    display_name = models.CharField(max_length=60, validators=[validate_printable_line])
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["confirmed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "participant"], name="review_confirm_once"),
        ]

    def __str__(self):
        return self.display_name
