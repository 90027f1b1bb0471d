import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .text import validate_key, validate_printable, validate_printable_line

# Six characters without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
SHORT_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
SHORT_CODE_LENGTH = 6


# The longest a timer or a stage may run: the timer controls, the stage editor and the model.
MAX_TIMER_MINUTES = 600


def new_join_token():
    # 24 random bytes: 192 bits, well above the 128 the join link needs.
    return secrets.token_urlsafe(24)


def new_short_code():
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def group_name(workshop_id):
    return f"workshop-{workshop_id}"


class Audience(models.TextChoices):
    """Who a page is for; each write is rendered once per audience."""

    FACILITATOR = "facilitator", _("Facilitator")
    PROJECTOR = "projector", _("Projector")
    PARTICIPANT = "participant", _("Participant")


class Language(models.TextChoices):
    FRENCH = "fr", _("French")
    ENGLISH = "en", _("English")


class TimerState(models.TextChoices):
    IDLE = "idle", _("Not started")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")


class Workshop(models.Model):
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workshops"
    )
    title = models.CharField(_("title"), max_length=200, validators=[validate_printable_line])
    observed_service = models.CharField(
        _("observed service"), max_length=200, blank=True, validators=[validate_printable_line]
    )
    perimeter = models.TextField(
        _("perimeter"), blank=True, max_length=2000, validators=[validate_printable]
    )
    intention = models.TextField(
        _("intention"), blank=True, max_length=2000, validators=[validate_printable]
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.FRENCH
    )
    date = models.DateField(_("date"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=60, blank=True)

    join_token = models.CharField(max_length=64, unique=True, default=new_join_token)
    short_code = models.CharField(max_length=SHORT_CODE_LENGTH, unique=True, default=new_short_code)

    # The live state of the room.
    seq = models.PositiveBigIntegerField(default=0)
    current_stage = models.ForeignKey(
        "Stage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where "Move everyone here" came from, so that a move to the wrong stage
    # can be undone in one tap; cleared by the undo itself.
    previous_stage = models.ForeignKey(
        "Stage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    writing_locked = models.BooleanField(default=False)
    timer_state = models.CharField(
        max_length=8, choices=TimerState.choices, default=TimerState.IDLE
    )
    timer_ends_at = models.DateTimeField(null=True, blank=True)
    timer_remaining = models.DurationField(null=True, blank=True)
    timer_locks_writing = models.BooleanField(default=False)
    # What the room's screen shows besides the board; every projector follows it live.
    # The instructions choice holds for the stage it was made on: another stage
    # is "auto" (open until its timer starts); coming back finds the choice again.
    projector_instructions_stage = models.ForeignKey(
        "Stage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    projector_instructions_shown = models.BooleanField(default=False)
    projector_qr_large = models.BooleanField(null=True, blank=True, default=None)

    MAX_TIMER_MINUTES = MAX_TIMER_MINUTES  # for the templates

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(timer_state="running") | Q(timer_ends_at__isnull=False),
                name="running_timer_has_end",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def group_name(self):
        return group_name(self.pk)

    def proxies(self):
        """Active participants without a phone, for whom the facilitator writes."""
        return self.participants.filter(added_by_facilitator=True, removed_at__isnull=True)

    # Timer -----------------------------------------------------------------

    def timer_left(self, now=None):
        """Time left on the shared timer, or None when it is not set."""
        now = now or timezone.now()
        if self.timer_state == TimerState.RUNNING:
            return max(self.timer_ends_at - now, timedelta(0))
        if self.timer_state == TimerState.PAUSED:
            return self.timer_remaining
        return None

    def timer_snapshot(self):
        """The timer for a page: end or time left in ms, and a mm:ss label."""
        left = self.timer_left()
        ends = ""
        if self.timer_state == TimerState.RUNNING:
            ends = int(self.timer_ends_at.timestamp() * 1000)
        left_ms = int(left.total_seconds() * 1000) if left is not None else None
        # Rounded up, as live.js does, so a page shows the same second before and after its tick.
        seconds = -(-left_ms // 1000) if left_ms is not None else None
        return {
            "state": self.timer_state,
            "ends_ms": ends,
            "left_ms": left_ms if left_ms is not None else "",
            "label": f"{seconds // 60:02d}:{seconds % 60:02d}" if seconds is not None else "--:--",
            "up": seconds is not None and seconds <= 0,
        }

    def time_is_up(self, now=None):
        left = self.timer_left(now)
        return left is not None and left <= timedelta(0)

    def start_timer(self, duration, now=None):
        now = now or timezone.now()
        self.timer_state = TimerState.RUNNING
        self.timer_ends_at = now + duration
        self.timer_remaining = None

    def pause_timer(self, now=None):
        if self.timer_state == TimerState.RUNNING:
            self.timer_remaining = self.timer_left(now)
            self.timer_state = TimerState.PAUSED
            self.timer_ends_at = None

    def resume_timer(self, now=None):
        if self.timer_state == TimerState.PAUSED:
            self.start_timer(self.timer_remaining, now)

    def add_time(self, delta, now=None):
        now = now or timezone.now()
        if self.timer_state == TimerState.RUNNING:
            # Time added after the end counts from now, not from the past end.
            self.timer_ends_at = max(self.timer_ends_at, now) + delta
        elif self.timer_state == TimerState.PAUSED:
            self.timer_remaining += delta
        else:
            self.start_timer(delta, now)

    def reset_timer(self):
        self.timer_state = TimerState.IDLE
        self.timer_ends_at = None
        self.timer_remaining = None

    # Writing ---------------------------------------------------------------

    def writing_closed_reason(self, stage, now=None):
        """Why a participant may not write on this stage now, or None."""
        if stage.pk != self.current_stage_id:
            return _("This stage is closed: the workshop has moved on.")
        if self.writing_locked:
            return _("Writing is locked by the facilitator.")
        if self.timer_locks_writing and self.time_is_up(now):
            return _("Time is up: writing is locked.")
        return None

    def renew_join_link(self):
        self.join_token = new_join_token()
        self.short_code = new_short_code()

    # The projector -------------------------------------------------------------

    def projector_state(self):
        """{"instructions": shown|hidden|auto, "qr": large|small|auto} for the room's screen.

        "qr_choice" is what the facilitator chose (the console's pressed button).

        "auto" is decided on the page by the timer, which every projector already
        follows live: the instructions stay open and the QR code large until the
        timer starts (the QR only on the first stage, while people arrive).
        """
        stage_id = self.current_stage_id
        if stage_id is not None and self.projector_instructions_stage_id == stage_id:
            instructions = "shown" if self.projector_instructions_shown else "hidden"
        else:
            instructions = "auto"
        qr_choice = {None: "auto", True: "large", False: "small"}[self.projector_qr_large]
        qr = qr_choice
        if qr_choice == "auto":
            first = self.first_stage_id
            qr = "auto" if stage_id is not None and stage_id == first else "small"
        return {"instructions": instructions, "qr": qr, "qr_choice": qr_choice}

    @cached_property
    def first_stage_id(self):
        """Primed by `rendering.live_context` from the stages it has already read."""
        return self.stages.values_list("pk", flat=True).first()

    def set_projector(self, *, instructions=None, qr=None):
        if instructions is not None:
            if instructions == "auto":
                self.projector_instructions_stage = None
            else:
                self.projector_instructions_stage_id = self.current_stage_id
                self.projector_instructions_shown = instructions == "shown"
        if qr is not None:
            self.projector_qr_large = {"auto": None, "large": True, "small": False}[qr]


class Stage(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=40, validators=[validate_key])
    title = models.CharField(_("title"), max_length=200, validators=[validate_printable_line])
    instructions = models.TextField(
        _("instructions"), blank=True, max_length=4000, validators=[validate_printable]
    )
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TIMER_MINUTES)],
    )
    config = models.JSONField(default=dict, blank=True)
    private_writing = models.BooleanField(
        _("private writing until reveal"),
        default=False,
        help_text=_("Each participant sees only their own post-its until you reveal them."),
    )
    revealed = models.BooleanField(default=False)
    anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("Authors' names are never shown.")
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title

    @property
    def is_hidden(self):
        """True while post-its are private to their authors."""
        return self.private_writing and not self.revealed

    @property
    def writable(self):
        """Whether participants write on this stage (its kind says): "I'm done", locks."""
        from .registry import get_kind

        return get_kind(self.kind).writable

    def clean(self):
        # The kind owns the shape of its config (column keys, colours, labels).
        from .registry import get_kind

        if not isinstance(self.config, dict):
            raise ValidationError({"config": _("The stage's settings are damaged.")})
        self.config = get_kind(self.kind).clean_config(self.config)


class Profile(models.TextChoices):
    AGENT = "agent", _("Agent of the observed service")
    INTERNAL_CLIENT = "internal_client", _("Internal client")
    EXTERNAL_CLIENT = "external_client", _("External client")
    SUPPLIER = "supplier", _("Supplier")
    PARTNER = "partner", _("Partner")
    OTHER = "other", _("Other")


class ParticipantQuerySet(models.QuerySet):
    def active(self):
        """Those still in the room: the facilitator has not removed them."""
        return self.filter(removed_at__isnull=True)


class Participant(models.Model):
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="participants")
    display_name = models.CharField(
        _("display name"), max_length=60, validators=[validate_printable_line]
    )
    profile = models.CharField(_("profile"), max_length=20, choices=Profile.choices)
    organisation = models.CharField(
        _("organisation"), max_length=80, blank=True, validators=[validate_printable_line]
    )
    # Someone without a phone: the facilitator added them and enters what they
    # write; everything they author is shown as entered by the facilitator.
    added_by_facilitator = models.BooleanField(default=False)
    done_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(profile__in=Profile.values), name="participant_profile_known"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def is_active(self):
        return self.removed_at is None

    def remove(self, now=None):
        """The facilitator takes them out of the room; their session stops working."""
        self.removed_at = now or timezone.now()

    def is_done(self):
        return (
            self.done_stage_id is not None and self.done_stage_id == self.workshop.current_stage_id
        )


class FramesField(models.JSONField):
    """An event's frames, each distinct HTML string stored once.

    Audiences often share one fragment (a post-it's is the same for all
    three): in the table the frames are {"html": [...], "by": {audience:
    index}}; in Python, and for the hub, they stay {audience: html}. Rows
    written before this field are plain dicts and read as they are.
    """

    def get_prep_value(self, value):
        if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
            html, by = [], {}
            index = {}
            for audience, text in value.items():
                if text not in index:
                    index[text] = len(html)
                    html.append(text)
                by[audience] = index[text]
            value = {"html": html, "by": by}
        return super().get_prep_value(value)

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        if (
            isinstance(value, dict)
            and set(value) == {"html", "by"}
            and isinstance(value["by"], dict)
        ):
            html = value["html"]
            return {audience: html[i] for audience, i in value["by"].items()}
        return value


class Event(models.Model):
    """One accepted write, in the workshop's order.

    `frames` holds the HTML fragment rendered once per audience at write
    time, so that replaying to a reconnecting page is a read, not a render.
    """

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=60)
    # NULL, not "", for writes without an operation id: the unique constraint skips them.
    op_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict)
    frames = FramesField(default=dict)
    owners = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["workshop", "seq"], name="one_event_per_seq"),
            models.UniqueConstraint(
                fields=["workshop", "op_id"],
                condition=Q(op_id__isnull=False),
                name="one_event_per_operation",
            ),
        ]

    def __str__(self):
        return f"{self.workshop_id}#{self.seq} {self.type}"


class Connection(models.Model):
    """An open live socket, for presence. Rows of a dead process go stale."""

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="connections")
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="connections"
    )
    role = models.CharField(max_length=12)
    process = models.CharField(max_length=40)
    opened_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.role} in {self.workshop_id} via {self.process}"


class ServerProcess(models.Model):
    """A running server process; it beats while it lives."""

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return self.name


class Trace(models.Model):
    """One object came from another: a post-it became a tension, an idea a sheet.

    Any stage app links its objects without importing another stage app: an
    end is named by its model's label (`journeys.postit`) and its pk, and each
    end keeps the plain-text label it had when linked (refreshed by
    `trace.relabel()`), so a board lists "comes from…" and "led to…" from these
    rows alone, and a deleted origin still says what it was. See
    `workshops/trace.py`.
    """

    class How(models.TextChoices):
        PROMOTED = "promoted", _("promoted")
        REWORDED = "reworded", _("reworded")
        MERGED = "merged", _("merged")
        ANSWERS = "answers", _("answers")

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="traces")
    origin_type = models.CharField(max_length=60)
    origin_id = models.PositiveBigIntegerField()
    origin_label = models.CharField(max_length=200, validators=[validate_printable_line])
    derived_type = models.CharField(max_length=60)
    derived_id = models.PositiveBigIntegerField()
    derived_label = models.CharField(max_length=200, validators=[validate_printable_line])
    how = models.CharField(max_length=12, choices=How.choices, default=How.PROMOTED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin_type", "origin_id", "derived_type", "derived_id"],
                name="one_trace_per_pair",
            ),
        ]
        indexes = [
            models.Index(fields=["origin_type", "origin_id"], name="trace_origin"),
            models.Index(fields=["derived_type", "derived_id"], name="trace_derived"),
        ]

    def __str__(self):
        return f"{self.origin_type}:{self.origin_id} -> {self.derived_type}:{self.derived_id}"


class Reclaim(models.Model):
    """A phone without its session asks to be a participant again (a review, weeks later).

    It names the participant it says it is; the facilitator accepts or refuses from the
    console. Only the session that asked holds `token`, and only an accepted request
    gives it the participant: nobody takes another person's place, or commitments, alone.
    """

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="reclaims")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=43, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    accepted = models.BooleanField(null=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.participant} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def pending(self):
        return self.decided_at is None

    def decide(self, accepted, now=None):
        self.accepted = bool(accepted)
        self.decided_at = now or timezone.now()
