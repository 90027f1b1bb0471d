"""Dot votes on any stage's items, with one budget or two.

The double budget ("impact client" and "impact collaborateur") gives the 2-D chart.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_key, validate_printable_line

BUDGET_MIN, BUDGET_MAX = 1, 20
LABEL_MAX_LENGTH = 60
ITEM_REF_MAX_LENGTH = 80


def default_labels():
    """The double budget's labels (seed 001: priorisation par impact double)."""
    return _("client impact"), _("employee impact")


class Vote(models.Model):
    """The facilitator opens a vote on a stage's items; the server keeps its rules."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="votes")
    # Which of the stage's items (registry.Item.type) are voted on; "" for all of them.
    item_type = models.CharField(max_length=20, blank=True, validators=[validate_key])
    budget = models.PositiveSmallIntegerField(_("dots per participant"), default=5)
    cap = models.PositiveSmallIntegerField(_("dots per item at most"), default=3)
    double = models.BooleanField(_("double budget"), default=False)
    first_label = models.CharField(
        max_length=LABEL_MAX_LENGTH, blank=True, validators=[validate_printable_line]
    )
    second_label = models.CharField(
        max_length=LABEL_MAX_LENGTH, blank=True, validators=[validate_printable_line]
    )
    allow_own = models.BooleanField(_("may vote for their own items"), default=True)
    anonymous = models.BooleanField(_("anonymous"), default=True)
    hidden = models.BooleanField(_("results hidden until the vote closes"), default=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__gte=BUDGET_MIN) & Q(budget__lte=BUDGET_MAX),
                name="vote_budget_range",
            ),
            models.CheckConstraint(
                condition=Q(cap__gte=1) & Q(cap__lte=models.F("budget")), name="vote_cap_range"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "closed"]), name="vote_state_known"
            ),
            models.CheckConstraint(
                condition=Q(state="open", closed_at__isnull=True)
                | Q(state="closed", closed_at__isnull=False),
                name="vote_closed_has_time",
            ),
            models.UniqueConstraint(
                fields=["stage"], condition=Q(state="open"), name="one_open_vote_per_stage"
            ),
        ]

    def __str__(self):
        return f"vote {self.pk}"

    @property
    def is_open(self):
        return self.state == self.State.OPEN

    @property
    def shows_results(self):
        return not self.hidden or not self.is_open

    def close(self):
        self.state = self.State.CLOSED
        self.closed_at = timezone.now()

    def budgets(self):
        """[(key, label)] of the budgets each participant spends."""
        first, second = default_labels()
        if not self.double:
            return [(Dot.Budget.FIRST, _("dots"))]
        return [
            (Dot.Budget.FIRST, self.first_label or first),
            (Dot.Budget.SECOND, self.second_label or second),
        ]


class Dot(models.Model):
    """One dot: one participant, one item, one budget. Counted while its voter is in the room."""

    class Budget(models.TextChoices):
        FIRST = "first", _("first budget")
        SECOND = "second", _("second budget")

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="dots")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    item_ref = models.CharField(
        max_length=ITEM_REF_MAX_LENGTH, validators=[validate_printable_line]
    )
    budget = models.CharField(max_length=8, choices=Budget.choices, default=Budget.FIRST)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget__in=["first", "second"]), name="dot_budget_known"
            ),
        ]

    def __str__(self):
        return f"{self.item_ref} ({self.budget})"
