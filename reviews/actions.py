"""A review's writes. Each is one transaction, one event, one push (docs/reviews.md).

The facilitator opens a review (its stages join the workshop's list); then the
room records, item by item, a status and what it has to say; a sheet's
signatories confirm what was recorded. Nothing here writes a sheet, a
commitment, a flow or a row: the workshop's own values stay as they were.
"""

import datetime

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commitments.votes.actions import emit_stage
from workshops.live.write import ActionError, clean_text, room_write
from workshops.models import Stage
from workshops.registry import workshop_items

from .kinds import REVIEW_LABEL_MAX_LENGTH, SPECS, owners, review_of, spec_of
from .models import LABEL_MAX_LENGTH, TEXT_MAX_LENGTH, Confirmation, ReviewEntry

NOT_A_REVIEW = gettext_lazy("This stage is not a review.")
# The stages a review opens, in the order the room walks them, with their words.
OPENED = (
    (
        "review_actions",
        gettext_lazy("Action sheets"),
        gettext_lazy(
            "Each action sheet comes back with its test sheet.\n"
            "For each one: where is it, what did we measure next to the target, what did we"
            " learn, what is the next step? Its signatories confirm on their phones."
        ),
    ),
    (
        "review_commitments",
        gettext_lazy("Our commitments"),
        gettext_lazy(
            "Each of you finds your « Je m'engage à… » on your phone: kept, partly kept,"
            " or not yet?"
        ),
    ),
    (
        "review_flows",
        gettext_lazy("The map's flows, again"),
        gettext_lazy(
            "Let's rate each flow of the map again: smooth, unclear or friction. The"
            " projector shows what changed."
        ),
    ),
    (
        "review_interfaces",
        gettext_lazy("Reciprocal commitments"),
        gettext_lazy(
            "For each interface: did we keep what we committed to? Amend it for the months to come."
        ),
    ),
)
MAX_REVIEW_STAGES = 40


def _review_key(stages, day):
    taken = {review_of(s)[0] for s in stages}
    base = f"bilan-{day.isoformat()}" if day else "bilan"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def parse_day(value):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ActionError(_("Give the review's date as a date (for example 2027-01-15).")) from None


def open_review(workshop, *, label, day=None, op_id=None):
    """Add the review's stages at the end of the workshop: one per kind that has items."""
    from workshops.actions import emit_live

    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return list(Stage.objects.filter(pk__in=w.prior.payload.get("stages", [])))
        workshop = w.workshop
        label = " ".join(
            clean_text(
                label,
                REVIEW_LABEL_MAX_LENGTH,
                multiline=False,
                empty=_("Give the review a name, for example « Bilan à 30 jours »."),
            ).split()
        )
        day = parse_day(day) if not isinstance(day, datetime.date) else day
        stages = list(workshop.stages.all())
        if sum(1 for s in stages if s.kind in SPECS) >= MAX_REVIEW_STAGES:
            raise ActionError(_("This workshop has too many reviews already."), status=409)
        wanted = [
            (key, title, instructions)
            for key, title, instructions in OPENED
            if workshop_items(workshop, SPECS[key].item_type)
        ]
        if not wanted:
            raise ActionError(
                _(
                    "Nothing to review yet: the workshop has no action sheet, commitment,"
                    " flow or reciprocal row."
                ),
                status=409,
            )
        anonymous = any(s.anonymous for s in stages if s.kind == "tree")
        key = _review_key(stages, day)
        position = (workshop.stages.aggregate(m=Max("position"))["m"] or 0) + 1
        created = []
        for offset, (kind, title, instructions) in enumerate(wanted):
            created.append(
                Stage.objects.create(
                    workshop=workshop,
                    position=position + offset,
                    kind=kind,
                    title=f"{label} · {title}"[:120],
                    instructions=str(instructions),
                    duration_minutes=20,
                    anonymous=anonymous and kind == "review_commitments",
                    config={
                        "review": key,
                        "label": label,
                        "date": day.isoformat() if day else "",
                    },
                )
            )
        emit_live(
            workshop,
            "reviews.review_opened",
            {"review": key, "stages": [s.pk for s in created]},
            op_id=op_id,
        )
    return created


def _item(stage, ref):
    if not isinstance(ref, str) or len(ref) > 80:
        raise ActionError(_("This item is no longer in the workshop."), status=404)
    for item in workshop_items(stage.workshop, spec_of(stage).item_type):
        if item.ref == ref:
            return item
    raise ActionError(_("This item is no longer in the workshop."), status=404)


def _label(item):
    return " ".join((item.text or "").split())[:LABEL_MAX_LENGTH]


def _by(participant):
    if participant is None:
        return str(_("The facilitator")), False
    return participant.display_name, participant.added_by_facilitator


def record(stage, *, participant, item, status=None, texts=None, op_id=None):
    """Record a status and/or text fields for one item (last writer wins per field).

    `status` None leaves it as it is, "" takes it back; `texts` maps the kind's text
    fields to their new value. An item of `review_commitments` is recorded by its
    author (or the facilitator). A change takes back the signatories' confirmations."""
    texts = texts or {}
    with room_write(
        stage.workshop_id, op_id=op_id, participant=participant, stage_id=stage.pk, writing=True
    ) as w:
        if w.prior:
            return ReviewEntry.objects.filter(pk=w.prior.payload.get("entry")).first()
        if w.stage.kind not in SPECS:
            raise ActionError(NOT_A_REVIEW, status=404)
        spec = spec_of(w.stage)
        found = _item(w.stage, item)
        if (
            spec.by_author
            and participant is not None
            and not participant.added_by_facilitator
            and found.author_id != participant.pk
        ):
            raise ActionError(_("Only its author says whether a commitment was kept."), status=403)
        if status is not None and status != "" and status not in dict(spec.statuses):
            raise ActionError(_("Choose one of the statuses shown."))
        unknown = set(texts) - set(spec.fields)
        if unknown:
            raise ActionError(_("This request is malformed; reload the page."))
        cleaned = {
            name: clean_text(value, TEXT_MAX_LENGTH, required=False)
            for name, value in texts.items()
        }
        if status is None and not cleaned:
            raise ActionError(_("Choose a status or write something first."))
        entry, _created = ReviewEntry.objects.get_or_create(
            stage=w.stage, item_ref=found.ref, defaults={"item_label": _label(found)}
        )
        by, proxy = _by(participant)
        at = timezone.now().isoformat()
        edits = dict(entry.edits or {})
        changed = False
        if status is not None and status != entry.status:
            entry.status, changed = status, True
            edits["status"] = {"by": by, "at": at, "proxy": proxy}
        for name, value in cleaned.items():
            if value != getattr(entry, name):
                setattr(entry, name, value)
                edits[name] = {"by": by, "at": at, "proxy": proxy}
                changed = True
        entry.edits = edits
        entry.item_label = _label(found) or entry.item_label
        entry.save()
        if changed:
            entry.confirmations.all().delete()
        emit_stage(
            w.workshop,
            w.stage,
            "reviews.recorded",
            {"entry": entry.pk, "item": found.ref, "status": entry.status},
            op_id,
            participant,
            owners=owners(w.stage),
        )
    return entry


def confirm(stage, *, participant, item, op_id=None):
    """A signatory of the sheet confirms what the review recorded for it."""
    from commitments.sheets.models import Signature

    with room_write(
        stage.workshop_id, op_id=op_id, participant=participant, stage_id=stage.pk, writing=True
    ) as w:
        if w.prior:
            return
        if w.stage.kind not in SPECS or not spec_of(w.stage).confirmed:
            raise ActionError(NOT_A_REVIEW, status=404)
        if participant is None:
            raise ActionError(_("Only a signatory confirms, on their phone."), status=403)
        found = _item(w.stage, item)
        if not Signature.objects.filter(sheet=found.obj, participant=participant).exists():
            raise ActionError(_("Only the sheet's signatories confirm its review."), status=403)
        entry = ReviewEntry.objects.filter(stage=w.stage, item_ref=found.ref).first()
        if entry is None or not entry.status:
            raise ActionError(_("Record the sheet's status before confirming it."), status=409)
        Confirmation.objects.get_or_create(
            entry=entry,
            participant=participant,
            defaults={"display_name": participant.display_name},
        )
        emit_stage(
            w.workshop,
            w.stage,
            "reviews.confirmed",
            {"entry": entry.pk, "item": found.ref},
            op_id,
            participant,
            owners=owners(w.stage),
        )
