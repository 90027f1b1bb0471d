"""The one action path: every accepted write goes through here.

An action opens a transaction, locks its workshop with `lock_workshop()`,
checks `already_applied()` for its operation id, changes its models, and
calls `emit()`. `emit()` bumps the workshop's sequence number, renders the
change's fragment once per audience, appends the event to the log, and
schedules the broadcast for after the commit.
"""

import re
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from .. import text
from ..models import Audience, Event, Stage, Workshop

AUDIENCES = tuple(Audience.values)
OP_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def malformed():
    """What a request we cannot read hears: the page is out of date, or not ours."""
    return _("This request is malformed; reload the page.")


def form_id(value):
    """A database id from a form field; anything else is a malformed request.

    Beyond a 64-bit integer the database itself would fail (a 500), not just find nothing.
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ActionError(malformed()) from None
    if not 0 < number < 2**63:
        raise ActionError(malformed())
    return number


class ActionError(Exception):
    """A write refused for a reason the user should read; nothing changed."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


def clean_text(value, max_length, **options):
    """The one text rule (workshops/text.py), refused as an action refuses."""
    try:
        return text.clean_text(value, max_length, **options)
    except ValidationError as error:
        raise ActionError(error.messages[0]) from None


def valid_op_id(op_id):
    return op_id is None or bool(OP_ID_RE.match(op_id))


def fetch_one(model, where, params, for_update=False):
    """The row of `model` matching `where` (SQL on its own columns), or None.

    Every write loads its workshop, stage and participant. `.get()` builds
    and compiles a query each time: 0.25–0.35 ms apiece on a small machine,
    against 0.06–0.12 ms for `raw()`, which still converts every field
    (docs/performance.md). For the lookups every request or write makes
    (access.py, the actions); elsewhere, the ORM.
    """
    sql = f"SELECT * FROM {model._meta.db_table} WHERE {where} LIMIT 1"
    if for_update and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return next(iter(model.objects.raw(sql, params)), None)


def lock_workshop(workshop_id):
    # Writes to one workshop are serialised so that sequence numbers follow
    # commit order. (SQLite's IMMEDIATE transactions already hold the lock.)
    workshop = fetch_one(Workshop, "id = %s", [workshop_id], for_update=True)
    if workshop is None:
        raise Workshop.DoesNotExist
    return workshop


def already_applied(workshop, op_id, participant=None):
    """The event a retried operation produced the first time, if any.

    An operation id belongs to whoever used it first (`participant`, or the
    facilitator when None): someone else's id is refused, not replayed.
    """
    if not op_id:
        return None
    # Every write asks this, nearly always to hear "no": the SQL is written out
    # (a twentieth of the ORM's cost, measured in docs/performance.md).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, seq, participant_id FROM {Event._meta.db_table}"
            " WHERE workshop_id = %s AND op_id = %s LIMIT 1",
            [workshop.pk, op_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    # The other fields (payload…) load when a retry asks for them.
    prior = Event.from_db(connection.alias, ["id", "seq", "participant_id"], row)
    if prior.participant_id != (participant.pk if participant else None):
        raise ActionError(malformed(), status=409)
    return prior


@dataclass
class RoomWrite:
    """What `room_write` checked: the locked workshop, the stage, a retry's first event."""

    workshop: Workshop
    participant: object = None
    prior: Event | None = None
    stage: Stage | None = None

    def load_stage(self, stage_id, *, kind=None, wrong_kind=None, writing=False):
        """The workshop's stage (404 when gone or not of `kind`); writing open when asked."""
        stage = fetch_one(Stage, "id = %s AND workshop_id = %s", [stage_id, self.workshop.pk])
        if stage is None:
            raise ActionError(_("This stage no longer exists."), status=404)
        if kind is not None and stage.kind != kind:
            raise ActionError(wrong_kind or _("This stage no longer exists."), status=404)
        self.stage = stage
        if writing:
            self.check_writing(stage)
        return stage

    def check_writing(self, stage):
        """A participant writes only on the current stage, unlocked, in time (409 if not).

        The facilitator, and someone without a phone whom the facilitator writes
        for, are never locked out."""
        if self.participant is None or self.participant.added_by_facilitator:
            return
        if not stage.writable:
            raise ActionError(_("Nobody writes on this stage."), status=409)
        if reason := self.workshop.writing_closed_reason(stage):
            raise ActionError(reason, status=409)


@contextmanager
def room_write(
    workshop_id,
    *,
    op_id=None,
    participant=None,
    stage_id=None,
    kind=None,
    wrong_kind=None,
    writing=False,
):
    """The skeleton of every room write, in one transaction.

    It locks the workshop, looks the operation id up (a retry finds `w.prior`
    set and returns what the first attempt produced, before any other check:
    a write accepted before writing was locked is still acknowledged), then
    loads the stage (`stage_id`, of `kind`) and checks that writing is open on
    it (`writing`, for participants). The body changes the models and emits.
    """
    with transaction.atomic():
        write = RoomWrite(workshop=lock_workshop(workshop_id), participant=participant)
        write.prior = already_applied(write.workshop, op_id, participant)
        if write.prior is None and stage_id is not None:
            write.load_stage(stage_id, kind=kind, wrong_kind=wrong_kind, writing=writing)
        yield write


def emit(
    workshop,
    type,
    payload,
    *,
    frames,
    op_id=None,
    participant=None,
    author_frame=None,
    owners=None,
    whole_owners=False,
):
    """Append an event to the log and broadcast it once the transaction commits.

    `frames` maps each audience to its HTML; `author_frame`, when given, is
    what the participant who made the write sees instead; `owners` maps a
    participant id to the ids of post-its (or other objects) that are theirs;
    `whole_owners` says they are all of the current stage's (a stage change): the
    pages replace their own ids with them instead of adding them.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("emit() must run inside the action's transaction")
    workshop.seq = next_seq(workshop.pk)
    if author_frame is not None:
        frames = {**frames, "author": author_frame}
    event = Event.objects.create(
        workshop=workshop,
        seq=workshop.seq,
        type=type,
        op_id=op_id,
        participant=participant,
        payload=payload,
        frames=frames,
        owners={
            **{str(k): v for k, v in (owners or {}).items()},
            **({"*": []} if whole_owners else {}),
        },
    )
    message = message_for(event)
    transaction.on_commit(lambda: _publish(workshop.pk, message))
    return event


def next_seq(workshop_id):
    """Bump and return the workshop's sequence number, in one statement."""
    table = Workshop._meta.db_table
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:  # RETURNING: SQLite 3.35+, PG
            cursor.execute(
                f"UPDATE {table} SET seq = seq + 1 WHERE id = %s RETURNING seq", [workshop_id]
            )
        else:
            cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = %s", [workshop_id])
            cursor.execute(f"SELECT seq FROM {table} WHERE id = %s", [workshop_id])
        return cursor.fetchone()[0]


def message_for(event):
    return {
        "seq": event.seq,
        "type": event.type,
        "frames": event.frames,
        "author": event.participant_id,
        "owners": event.owners,
    }


def _publish(workshop_id, message):
    from .hub import hub

    hub.publish(workshop_id, message)


def tell_participant(workshop_id, participant_id, kind):
    """Out-of-band notice to one participant's sockets (e.g. removal)."""
    from .hub import hub

    transaction.on_commit(
        lambda: hub.publish(workshop_id, {"notice": kind, "participant": participant_id})
    )
