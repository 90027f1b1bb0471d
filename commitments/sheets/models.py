"""An action sheet, its 30-day test sheet, and the signatures that commit both sides to it."""

import hashlib
import json

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workshops.models import Participant, Profile, Stage, Workshop
from workshops.text import validate_printable, validate_printable_line

TITLE_MAX_LENGTH = 160
TEXT_MAX_LENGTH = 1000
DESCRIPTION_MAX_LENGTH = 2000


class SignatureRule(models.TextChoices):
    """The stage's setting: seed 000 asks for "client + fournisseur si possible"."""

    PAIR = "pair", _("A client and a supplier must both sign")
    ANY_TWO = "any_two", _("Any two participants may co-sign")


class Side(models.TextChoices):
    CLIENT = "client", _("Client side")
    SUPPLIER = "supplier", _("Supplier side")
    OTHER = "other", _("Neither side")


# Client side: internal or external client; supplier side: agent of the service, or supplier.
SIDE_OF_PROFILE = {
    Profile.INTERNAL_CLIENT: Side.CLIENT,
    Profile.EXTERNAL_CLIENT: Side.CLIENT,
    Profile.AGENT: Side.SUPPLIER,
    Profile.SUPPLIER: Side.SUPPLIER,
}


def side_of(profile):
    return SIDE_OF_PROFILE.get(profile, Side.OTHER)


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED_ONCE = "signed_once", _("Signed once")
    COSIGNED = "cosigned", _("Co-signed")


# Colour is never the only signal: each status has its icon and its word.
STATUS_ICONS = {"draft": "✎", "signed_once": "✍", "cosigned": "✔✔"}
RESIGN_ICON = "⟳"


def _text_field(label, max_length=TEXT_MAX_LENGTH):
    return models.TextField(
        label, max_length=max_length, blank=True, validators=[validate_printable]
    )


class ActionSheet(models.Model):
    """A fiche-action: what will be done, by whom, how it is measured, and its test sheet.

    Each field is written last-writer-wins, in server order (the workshop's lock);
    `edits` says who wrote each field last and when.
    """

    # The fields people co-write, in the order the sheet shows them.
    TEXT_FIELDS = (
        "title",
        "description",
        "resources",
        "indicators",
        "test_what",
        "test_who",
        "test_when",
        "test_indicators",
        "test_feedback",
    )
    DATE_FIELDS = ("start_date", "due_date")
    PEOPLE_FIELDS = ("owner", "co_owners")
    EDITABLE = (*TEXT_FIELDS, *DATE_FIELDS, *PEOPLE_FIELDS, "origin")

    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="action_sheets")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="action_sheets")
    title = models.CharField(
        _("title"), max_length=TITLE_MAX_LENGTH, validators=[validate_printable_line]
    )
    description = _text_field(_("description"), DESCRIPTION_MAX_LENGTH)
    owner = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    co_owners = models.ManyToManyField(Participant, blank=True, related_name="+")
    start_date = models.DateField(_("start date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    resources = _text_field(_("resources"))
    indicators = _text_field(_("indicators and targets"))
    test_what = _text_field(_("what"))
    test_who = _text_field(_("who"))
    test_when = _text_field(_("when"))
    test_indicators = _text_field(_("indicators"))
    test_feedback = _text_field(_("feedback"))
    # {field: {"by": name, "at": ISO time, "proxy": entered by the facilitator}}
    edits = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(due_date__isnull=True)
                | Q(due_date__gte=F("start_date")),
                name="sheet_due_after_start",
            ),
        ]

    def __str__(self):
        return self.title

    def trace_label(self):
        return _("Action sheet: %(title)s") % {"title": self.title}

    def record_edit(self, field, participant):
        """Who wrote `field` last (None: the facilitator), at the server's time."""
        if participant is None:
            by, proxy = str(_("The facilitator")), False
        else:
            by, proxy = participant.display_name, participant.added_by_facilitator
        self.edits = {
            **(self.edits or {}),
            field: {"by": by, "at": timezone.now().isoformat(), "proxy": proxy},
        }

    def content(self, origin_labels, owner_name, co_owner_names):
        """What a signature commits to: the sheet's text, people by name, origins by label.

        Names and labels rather than ids, so the same sheet exported and imported
        keeps its signatures valid."""
        return {
            "title": self.title,
            "origin": sorted(origin_labels),
            "description": self.description,
            "owner": owner_name,
            "co_owners": sorted(co_owner_names),
            "start_date": self.start_date.isoformat() if self.start_date else "",
            "due_date": self.due_date.isoformat() if self.due_date else "",
            **{name: getattr(self, name) for name in self.TEXT_FIELDS if name != "title"},
        }

    def content_hash(self, origin_labels, owner_name, co_owner_names):
        document = json.dumps(
            self.content(origin_labels, owner_name, co_owner_names),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(document.encode("utf-8")).hexdigest()

    def sign(self, participant, content_hash, *, by_facilitator=False):
        """The participant's signature of this content (a new one replaces their old one)."""
        signature, _created = Signature.objects.update_or_create(
            sheet=self,
            participant=participant,
            defaults={
                "display_name": participant.display_name,
                "profile": participant.profile,
                "organisation": participant.organisation,
                "side": side_of(participant.profile),
                "content_hash": content_hash,
                "signed_at": timezone.now(),
                "entered_by_facilitator": by_facilitator,
            },
        )
        return signature


validate_sha256 = RegexValidator(r"^[0-9a-f]{64}\Z", _("This is not a content hash."))


class Signature(models.Model):
    """One participant's signature: who they were when they signed, and what they signed."""

    sheet = models.ForeignKey(ActionSheet, on_delete=models.CASCADE, related_name="signatures")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    # As they were at signing: a later change of name or profile does not rewrite it.
    display_name = models.CharField(max_length=60, validators=[validate_printable_line])
    profile = models.CharField(max_length=20, choices=Profile.choices)
    organisation = models.CharField(max_length=80, blank=True, validators=[validate_printable_line])
    side = models.CharField(max_length=10, choices=Side.choices)
    content_hash = models.CharField(max_length=64, validators=[validate_sha256])
    signed_at = models.DateTimeField()
    entered_by_facilitator = models.BooleanField(default=False)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "participant"], name="one_signature_each"),
            models.CheckConstraint(condition=Q(side__in=Side.values), name="signature_side_known"),
            models.CheckConstraint(
                condition=Q(profile__in=Profile.values), name="signature_profile_known"
            ),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.get_side_display()})"
