"""The three-circle map: actors around the observed service, and the flows between them."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Stage, Workshop
from workshops.text import validate_printable, validate_printable_line

from . import layout


class Circle(models.TextChoices):
    SUPPLIERS = "suppliers", _("Suppliers")
    CENTRE = "centre", _("Observed service")
    CLIENTS = "clients", _("Clients and users")


class Scope(models.TextChoices):
    INTERNAL = "internal", _("Internal")
    EXTERNAL = "external", _("External")


class FlowKind(models.TextChoices):
    INFORMATION = "information", _("Information")
    REQUEST = "request", _("Request")
    DELIVERABLE = "deliverable", _("Deliverable")


class Rating(models.TextChoices):
    SMOOTH = "smooth", _("Smooth")
    UNCLEAR = "unclear", _("Unclear")
    FRICTION = "friction", _("Friction")


# Colour is never the only signal: each rating has its own icon and words too.
RATING_ICONS = {"smooth": "✔", "unclear": "◆", "friction": "✖", "": "○"}
# Each flow kind has its own line style (see layout.LINE_STYLES) and a glyph for lists.
KIND_ICONS = {"information": "ℹ", "request": "?", "deliverable": "▣"}

NAME_MAX_LENGTH = 80
DESCRIPTION_MAX_LENGTH = 300
LABEL_MAX_LENGTH = 120
ANSWER_MAX_LENGTH = 500


class Actor(models.Model):
    """Someone the observed service depends on, or who depends on it.

    The one actor in the centre circle is the workshop's observed service; its
    name, when left blank, follows `workshop.observed_service`.
    """

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="actors")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="actors")
    name = models.CharField(
        _("name"), max_length=NAME_MAX_LENGTH, blank=True, validators=[validate_printable_line]
    )
    circle = models.CharField(_("circle"), max_length=12, choices=Circle.choices)
    scope = models.CharField(
        _("internal or external"), max_length=10, choices=Scope.choices, default=Scope.INTERNAL
    )
    description = models.TextField(
        _("description"),
        max_length=DESCRIPTION_MAX_LENGTH,
        blank=True,
        validators=[validate_printable],
    )
    # The actor's place in its circle, taken at creation: adding one never moves the others.
    slot = models.PositiveIntegerField(default=0)
    # Where the facilitator nudged it, when they did (centre of the box, map units).
    x = models.PositiveIntegerField(null=True, blank=True)
    y = models.PositiveIntegerField(null=True, blank=True)
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slot", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(circle__in=Circle.values), name="actor_circle_known"
            ),
            models.CheckConstraint(condition=Q(scope__in=Scope.values), name="actor_scope_known"),
            models.UniqueConstraint(
                fields=["stage"], condition=Q(circle="centre"), name="one_centre_per_map"
            ),
            models.UniqueConstraint(fields=["stage", "circle", "slot"], name="one_actor_per_slot"),
            # A nudged actor has both coordinates, inside the map.
            models.CheckConstraint(
                condition=(Q(x__isnull=True) & Q(y__isnull=True))
                | (Q(x__isnull=False) & Q(y__isnull=False) & Q(x__lte=layout.WIDTH)),
                name="actor_position_whole",
            ),
        ]

    def __str__(self):
        return self.name or self.get_circle_display()

    def trace_label(self):
        return f"{self}, {self.get_circle_display()}"

    def move_to(self, x, y):
        """Where the facilitator put it (already clamped to the map); None, None puts it back."""
        if x is None or y is None:
            self.x = self.y = None
        else:
            self.x, self.y = x, y

    @property
    def is_centre(self):
        return self.circle == Circle.CENTRE

    @property
    def ref(self):
        """How URLs and pickers name the actor: the centre has no id until it is written."""
        return "centre" if self.is_centre else str(self.pk)

    @property
    def display_name(self):
        if self.name:
            return self.name
        if self.is_centre and self.workshop.observed_service:
            return self.workshop.observed_service
        return str(self.get_circle_display())


class Flow(models.Model):
    """Information, a request or a deliverable going from one actor to another."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="flows")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="flows")
    source = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="flows_out")
    target = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="flows_in")
    kind = models.CharField(_("kind"), max_length=12, choices=FlowKind.choices)
    label = models.CharField(
        _("label"), max_length=LABEL_MAX_LENGTH, validators=[validate_printable_line]
    )
    # Both sides of the method's key questions.
    they_expect = models.TextField(
        _("what they expect from us"),
        max_length=ANSWER_MAX_LENGTH,
        blank=True,
        validators=[validate_printable],
    )
    we_expect = models.TextField(
        _("what we expect from them"),
        max_length=ANSWER_MAX_LENGTH,
        blank=True,
        validators=[validate_printable],
    )
    mismatch = models.TextField(
        _("what happens when it goes wrong"),
        max_length=ANSWER_MAX_LENGTH,
        blank=True,
        validators=[validate_printable],
    )
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices, blank=True)
    rated_by = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FlowKind.values), name="flow_kind_known"),
            models.CheckConstraint(
                condition=Q(rating__in=[*Rating.values, ""]), name="flow_rating_known"
            ),
            models.CheckConstraint(condition=~Q(source=F("target")), name="flow_between_two"),
        ]

    def __str__(self):
        return self.label

    @property
    def rating_icon(self):
        return RATING_ICONS.get(self.rating, "○")

    @property
    def kind_icon(self):
        return KIND_ICONS.get(self.kind, "")

    def rate(self, rating, participant):
        """Smooth, unclear or friction, by whom; "" takes the mark off."""
        self.rating = rating or ""
        self.rated_by = participant if self.rating else None

    def rating_label(self):
        return self.get_rating_display() if self.rating else _("Not rated")

    def trace_label(self):
        """The flow, its ends and its rating, for "comes from…" / "led to…" (plain text)."""
        return f"{self.source.name} → {self.target.name} · {self.label} {self.rating_icon}"
