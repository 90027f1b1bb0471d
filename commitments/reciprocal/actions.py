"""Writes on a reciprocal-commitments table. Each is one transaction, one event, one push.

The facilitator lays the rows out (typed in, or taken from a map's actors);
a pair takes a row on their phones and writes its cells; after the workshop,
the pair records that they met the interface, when, and what they heard.
That record stays writable from a phone once the facilitator opens the
follow-up (`config["follow_up"]`), whichever stage the room is on.
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.live.write import ActionError, clean_text, room_write
from workshops.models import Trace
from workshops.registry import workshop_items
from workshops.trace import link, type_of

from ..votes.actions import emit_stage
from .models import (
    CELL_MAX_LENGTH,
    FEEDBACK_MAX_LENGTH,
    HOLDERS_PER_ROW,
    LABEL_MAX_LENGTH,
    MAX_ROWS,
    Holder,
    Row,
)


def row_in_room(stage, row, participant):
    """The fourth column is open: someone of that service is here (or the facilitator writes)."""
    from .kinds import row_label

    return participant is None or participant.added_by_facilitator or row_label(stage, row)[1]


_TABLE = {"kind": "reciprocal", "wrong_kind": gettext_lazy("This stage holds no table.")}
CIRCLES = ("clients", "suppliers")


def _row(stage, pk):
    try:
        return Row.objects.select_for_update().get(stage=stage, pk=int(pk))
    except (TypeError, ValueError, OverflowError, Row.DoesNotExist):
        raise ActionError(_("This row is no longer in the table."), status=404) from None


def _label(text):
    return " ".join(clean_text(text, LABEL_MAX_LENGTH, empty=_("Name the service.")).split())


def _next_position(stage):
    last = Row.objects.filter(stage=stage).order_by("-position").first()
    return last.position + 1 if last else 0


def _room_full(stage, more=1):
    if Row.objects.filter(stage=stage).count() + more > MAX_ROWS:
        raise ActionError(_("This table is full."), status=409)


def add_row(stage, *, label, op_id=None):
    """The facilitator types a service in."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_TABLE) as w:
        if w.prior:
            return Row.objects.filter(pk=w.prior.payload.get("row")).first()
        label = _label(label)
        if Row.objects.filter(stage=w.stage, label__iexact=label).exists():
            raise ActionError(_("This service already has a row."), status=409)
        _room_full(w.stage)
        row = Row.objects.create(
            workshop=w.workshop, stage=w.stage, label=label, position=_next_position(w.stage)
        )
        emit_stage(w.workshop, w.stage, "commitments.row_added", {"row": row.pk}, op_id)
    return row


def actor_choices(stage, circle):
    """The map actors of `circle` that have no row in this table yet."""
    taken = {
        (t.origin_type, t.origin_id)
        for t in Trace.objects.filter(
            workshop_id=stage.workshop_id, derived_type=type_of(Row()), how=Trace.How.PROMOTED
        ).filter(derived_id__in=Row.objects.filter(stage=stage).values("pk"))
    }
    return [
        item
        for item in workshop_items(stage.workshop, "actor")
        if item.mark == circle and (type_of(item.obj), item.obj.pk) not in taken
    ]


def prefill_rows(stage, *, circle, op_id=None):
    """One row per actor of a map's `circle`, tied to its actor (rename and delete follow)."""
    if circle not in CIRCLES:
        raise ActionError(_("Choose the clients' or the suppliers' circle."))
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_TABLE) as w:
        if w.prior:
            return list(Row.objects.filter(pk__in=w.prior.payload.get("rows") or []))
        items = actor_choices(w.stage, circle)
        if not items:
            raise ActionError(_("Every actor of that circle already has a row."), status=409)
        _room_full(w.stage, len(items))
        position, rows = _next_position(w.stage), []
        for item in items:
            row = Row.objects.create(
                workshop=w.workshop,
                stage=w.stage,
                label=clean_text(item.text, LABEL_MAX_LENGTH),
                position=position,
            )
            link(item.obj, row, Trace.How.PROMOTED)
            position += 1
            rows.append(row)
        emit_stage(
            w.workshop, w.stage, "commitments.rows_prefilled", {"rows": [r.pk for r in rows]}, op_id
        )
    return rows


def remove_row(stage, *, row, op_id=None):
    """The facilitator takes a row out, only while nothing is written in it."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_TABLE) as w:
        if w.prior:
            return None
        row = _row(w.stage, row)
        if any(getattr(row, f) for f in Row.Field.values) or row.feedback or row.met:
            raise ActionError(_("Something is written in this row: it stays."), status=409)
        Trace.objects.filter(derived_type=type_of(row), derived_id=row.pk).delete()
        row.delete()
        emit_stage(w.workshop, w.stage, "commitments.row_removed", {}, op_id)
    return None


def take_row(stage, *, participant, row, op_id=None):
    """A participant joins the pair of a row (leaving the one they held)."""
    if participant is None:
        raise ActionError(_("Take a row from your phone."), status=403)
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_TABLE,
    ) as w:
        if w.prior:
            return Row.objects.filter(pk=w.prior.payload.get("row")).first()
        row = _row(w.stage, row)
        holder = row.holders.filter(participant=participant).first()
        if holder is None:
            if row.holders.count() >= HOLDERS_PER_ROW:
                raise ActionError(_("A pair already holds this row."), status=409)
            Holder.objects.filter(stage=w.stage, participant=participant).delete()
            holder = Holder.objects.create(stage=w.stage, row=row, participant=participant)
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.row_taken",
            {"row": row.pk},
            op_id,
            participant,
            owners={participant.pk: [-holder.pk]},
        )
    return row


def leave_row(stage, *, participant, op_id=None):
    if participant is None:
        raise ActionError(_("Take a row from your phone."), status=403)
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_TABLE,
    ) as w:
        if w.prior:
            return None
        Holder.objects.filter(stage=w.stage, participant=participant).delete()
        emit_stage(w.workshop, w.stage, "commitments.row_left", {}, op_id, participant)
    return None


def _may_write_row(row, participant):
    if participant is None or participant.added_by_facilitator:
        return
    if not row.holders.filter(participant=participant).exists():
        raise ActionError(_("Take this row first: its pair writes it."), status=403)


def write_cell(stage, *, participant, row, field, text, op_id=None):
    """A cell of the row, written by its pair (or the facilitator); the last write wins."""
    if field not in Row.Field.values:
        raise ActionError(_("Choose a column of the table."))
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        writing=True,
        **_TABLE,
    ) as w:
        if w.prior:
            return Row.objects.filter(pk=w.prior.payload.get("row")).first()
        row = _row(w.stage, row)
        _may_write_row(row, participant)
        text = clean_text(text, CELL_MAX_LENGTH, required=False)
        if (
            field == Row.Field.THEY_COMMIT
            and not row.they_commit
            and not row_in_room(w.stage, row, participant)
        ):
            raise ActionError(
                _("This column opens when someone of that service is in the room."), status=409
            )
        row.write(field, text)
        row.full_clean()
        row.save(update_fields=[field])
        emit_stage(
            w.workshop,
            w.stage,
            "commitments.cell_written",
            {"row": row.pk, "field": field},
            op_id,
            participant,
        )
    return row


def set_follow_up(stage, *, open, op_id=None):
    """The facilitator opens (or closes) the after-workshop records to phones."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_TABLE) as w:
        if w.prior:
            return w.stage
        w.stage.config = {**w.stage.config, "follow_up": bool(open)}
        w.stage.save(update_fields=["config"])
        emit_stage(w.workshop, w.stage, "commitments.follow_up_set", {"open": bool(open)}, op_id)
    return w.stage


def _date(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ActionError(_("Give the date as day, month and year.")) from None


def record_meeting(stage, *, participant, row, met, met_on="", feedback="", op_id=None):
    """The pair met the interface, on that date, and gathered this feedback.

    Open while the stage is the room's (as any cell), or later from a phone
    once the facilitator opened the follow-up."""
    with room_write(
        stage.workshop_id, op_id=op_id, participant=participant, stage_id=stage.pk, **_TABLE
    ) as w:
        if w.prior:
            return Row.objects.filter(pk=w.prior.payload.get("row")).first()
        if not w.stage.config.get("follow_up"):
            w.check_writing(w.stage)
        row = _row(w.stage, row)
        _may_write_row(row, participant)
        feedback = clean_text(feedback, FEEDBACK_MAX_LENGTH, required=False)
        met = met in (True, "1", "on", "true")
        day = _date(met_on)
        if day is not None and not met:
            raise ActionError(_("Tick that you met the interface before giving a date."))
        if day is not None and day > timezone.localdate() + datetime.timedelta(days=1):
            raise ActionError(_("The meeting's date cannot be in the future."))
        row.record_meeting(met, day, feedback)
        row.full_clean()
        row.save(update_fields=["met", "met_on", "feedback"])
        emit_stage(
            w.workshop, w.stage, "commitments.meeting_recorded", {"row": row.pk}, op_id, participant
        )
    return row
