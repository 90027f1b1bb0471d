"""The commitment tree: each person completes one of seed 000's closing sentences."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_printable, validate_printable_line

COMMITMENT_MAX_LENGTH = 300
TARGET_NAME_MAX_LENGTH = 120
# A map actor, named by `workshops.trace.ref()`.
REF_MAX_LENGTH = 80


class Commitment(models.Model):
    """« Je m'engage à… » (towards myself) or « Je vais améliorer ma relation avec… » someone.

    The second sentence names whom it is about: a map actor (`target_ref`, its
    name copied into `target_name` so a deleted actor leaves its words), or
    another service typed in (`target_name` alone).
    """

    class Sentence(models.TextChoices):
        COMMIT = "commit", _("I commit to…")
        RELATION = "relation", _("I am going to improve my relationship with…")

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="commitments")
    sentence = models.CharField(
        _("sentence"), max_length=10, choices=Sentence.choices, default=Sentence.COMMIT
    )
    text = models.TextField(
        _("commitment"), max_length=COMMITMENT_MAX_LENGTH, validators=[validate_printable]
    )
    target_ref = models.CharField(
        max_length=REF_MAX_LENGTH, blank=True, validators=[validate_printable_line]
    )
    target_name = models.CharField(
        _("whom it is about"),
        max_length=TARGET_NAME_MAX_LENGTH,
        blank=True,
        validators=[validate_printable_line],
    )
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sentence__in=["commit", "relation"]), name="commitment_sentence_known"
            ),
            # "I commit to…" goes to myself; the relation names someone.
            models.CheckConstraint(
                condition=(Q(sentence="commit") & Q(target_ref="") & Q(target_name=""))
                | (Q(sentence="relation") & ~Q(target_name="")),
                name="commitment_target_matches_sentence",
            ),
        ]

    def __str__(self):
        return self.text

    def trace_label(self):
        return str(_("Commitment: %(text)s") % {"text": " ".join(self.text.split())})

    def retarget(self, sentence, text, target_ref="", target_name=""):
        self.sentence, self.text = sentence, text
        self.target_ref, self.target_name = target_ref, target_name
