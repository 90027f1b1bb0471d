"""Challenges ("Comment pourrions-nous… ?") and the ideas that answer them."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_printable, validate_printable_line

CHALLENGE_MAX_LENGTH = 300
IDEA_MAX_LENGTH = 500
# A challenge of another stage (the tension matrix's), named by `workshops.trace.ref()`.
REF_MAX_LENGTH = 80


class Challenge(models.Model):
    """A "how might we…?" question written on the ideas stage itself."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="challenges")
    text = models.CharField(
        _("challenge"), max_length=CHALLENGE_MAX_LENGTH, validators=[validate_printable_line]
    )
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text

    def trace_label(self):
        return str(_("Challenge: %(text)s") % {"text": self.text})


class Idea(models.Model):
    """An idea under one challenge (of this stage, or of another stage by its ref).

    A merged idea stays, with `merged_into` set: its text, its origins and its
    votes are shown with (and counted for) the idea it was merged into.
    """

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="ideas")
    challenge = models.ForeignKey(
        Challenge, null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas"
    )
    challenge_ref = models.CharField(
        max_length=REF_MAX_LENGTH, blank=True, validators=[validate_printable_line]
    )
    text = models.TextField(_("idea"), max_length=IDEA_MAX_LENGTH, validators=[validate_printable])
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # Under one challenge at most: this stage's, or another stage's.
            models.CheckConstraint(
                condition=Q(challenge__isnull=True) | Q(challenge_ref=""),
                name="idea_one_challenge",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("pk")), name="idea_not_merged_into_itself"
            ),
        ]

    def __str__(self):
        return self.text

    def trace_label(self):
        return str(_("Idea: %(text)s") % {"text": " ".join(self.text.split())})

    def merge_into(self, target):
        self.merged_into = target
