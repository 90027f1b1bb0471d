"""Every write that must reach the room, one function each.

Each validates, writes in one transaction, appends to the event log and
broadcasts after the commit (see `live.emit`). Views and management commands
call these; nothing else saves these models.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import methods
from .live.regions import render_part, render_regions
from .live.write import AUDIENCES, ActionError, emit, room_write, tell_participant
from .models import MAX_TIMER_MINUTES, Participant, Reclaim, Stage, Workshop
from .registry import get_kind

# Creating --------------------------------------------------------------------


def create_workshop(*, facilitator, method_key=None, **fields):
    """A new workshop, with the stages of a method template (or one framing stage)."""
    with transaction.atomic():
        workshop = Workshop.objects.create(
            facilitator=facilitator, method=method_key or "", **fields
        )
        if method_key:
            stages = methods.stages_for(method_key, workshop.language)
        else:
            stages = methods.blank_stages(workshop.language)
        for position, data in enumerate(stages):
            Stage.objects.create(workshop=workshop, position=position, **data)
        workshop.current_stage = workshop.stages.first()
        workshop.save(update_fields=["current_stage"])
    return workshop


def update_workshop(workshop, *, op_id=None, **fields):
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return w.workshop
        workshop = w.workshop
        for name, value in fields.items():
            setattr(workshop, name, value)
        workshop.save()
        _emit_live(workshop, "workshops.workshop_updated", {"fields": sorted(fields)}, op_id=op_id)
    return workshop


def join(workshop, *, display_name, profile, organisation=""):
    return Participant.objects.create(
        workshop=workshop,
        display_name=display_name,
        profile=profile,
        organisation=organisation,
    )


# A phone that lost its session (weeks later, or a new phone) -------------------------------

MAX_PENDING_RECLAIMS = 20


def reclaimable(workshop):
    """Whom a phone may say it is: the workshop's active participants with a phone."""
    return workshop.participants.active().filter(added_by_facilitator=False)


def ask_reclaim(workshop, *, participant_id):
    """A phone asks to be `participant_id` again; the facilitator decides (no event: like
    joining, asking changes nothing in the room until it is accepted)."""
    import secrets

    participant = reclaimable(workshop).filter(pk=participant_id).first()
    if participant is None:
        raise ActionError(_("This name is no longer in the workshop."), status=404)
    with transaction.atomic():
        pending = workshop.reclaims.filter(decided_at__isnull=True)
        if pending.count() >= MAX_PENDING_RECLAIMS:
            raise ActionError(
                _("Too many requests are waiting for the facilitator: ask them in the room."),
                status=429,
            )
        # One request per name at a time: the newest stands for it.
        pending.filter(participant=participant).update(decided_at=timezone.now(), accepted=False)
        return Reclaim.objects.create(
            workshop=workshop, participant=participant, token=secrets.token_urlsafe(32)
        )


def decide_reclaim(workshop, reclaim_id, *, accept, op_id=None):
    """The facilitator accepts or refuses a phone's request to be someone again."""
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return Reclaim.objects.filter(pk=w.prior.payload.get("reclaim")).first()
        reclaim = w.workshop.reclaims.filter(pk=reclaim_id).select_related("participant").first()
        if reclaim is None or not reclaim.pending:
            raise ActionError(_("This request has already been answered."), status=409)
        if accept and not reclaim.participant.is_active:
            raise ActionError(_("This name is no longer in the workshop."), status=409)
        reclaim.decide(accept)
        reclaim.save(update_fields=["accepted", "decided_at"])
        emit(
            w.workshop,
            "workshops.reclaim_decided",
            {"reclaim": reclaim.pk, "accepted": reclaim.accepted},
            frames=dict.fromkeys(AUDIENCES, ""),
            op_id=op_id,
        )
    return reclaim


def add_participant(workshop, *, display_name, profile, organisation="", op_id=None):
    """Someone without a phone, added from the console: the facilitator writes for them."""
    with room_write(workshop.pk, op_id=op_id) as w:
        if prior := w.prior:
            return Participant.objects.filter(pk=prior.payload.get("participant")).first()
        workshop = w.workshop
        participant = Participant.objects.create(
            workshop=workshop,
            display_name=display_name,
            profile=profile,
            organisation=organisation,
            added_by_facilitator=True,
        )
        frames = dict.fromkeys(AUDIENCES, "")
        # The console's "write for" choice gains a name; phones and projector see nothing.
        frames["facilitator"] = render_part(
            workshop,
            "workshops/live.html#act_as",
            "facilitator",
            proxies=list(workshop.proxies()),
        )
        emit(
            workshop,
            "workshops.participant_added",
            {"participant": participant.pk},
            frames=frames,
            op_id=op_id,
        )
    return participant


# Running the room ----------------------------------------------------------------


def go_to_stage(workshop, stage, *, op_id=None, undo=False):
    """Move everyone (phones, projector, console) to `stage`.

    `undo=True` is "back to the previous stage": `stage` must still be the one
    the last move came from (a second console may have moved on meanwhile),
    and once back there is nothing left to undo.
    """
    with room_write(workshop.pk, op_id=op_id, stage_id=stage.pk) as w:
        if w.prior:
            return w.workshop
        workshop, stage = w.workshop, w.stage
        if undo:
            if workshop.previous_stage_id != stage.pk:
                raise ActionError(_("There is no move to undo any more."), status=409)
            workshop.previous_stage = None
        elif workshop.current_stage_id != stage.pk:
            workshop.previous_stage_id = workshop.current_stage_id
        workshop.current_stage = stage
        workshop.reset_timer()
        workshop.save(
            update_fields=[
                "current_stage",
                "previous_stage",
                "timer_state",
                "timer_ends_at",
                "timer_remaining",
            ]
        )
        # Nobody is done yet on the new stage.
        _emit_live(
            workshop, "workshops.stage_changed", {"stage": stage.pk}, op_id=op_id, reset_done=True
        )
    return workshop


def control_timer(workshop, command, *, minutes=None, op_id=None):
    """start / pause / resume / add / reset the shared timer (the server's clock)."""
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return w.workshop
        workshop = w.workshop
        now = timezone.now()
        if command in ("start", "add"):
            if minutes is None or not 1 <= minutes <= MAX_TIMER_MINUTES:
                raise ActionError(
                    _("Choose a duration between 1 and %d minutes.") % MAX_TIMER_MINUTES
                )
            if command == "start":
                workshop.start_timer(timedelta(minutes=minutes), now)
            else:
                workshop.add_time(timedelta(minutes=minutes), now)
        elif command == "pause":
            workshop.pause_timer(now)
        elif command == "resume":
            workshop.resume_timer(now)
        elif command == "reset":
            workshop.reset_timer()
        else:
            raise ActionError(_("Unknown timer command."))
        workshop.save(update_fields=["timer_state", "timer_ends_at", "timer_remaining"])
        _emit_controls(workshop, "workshops.timer", {"command": command, "minutes": minutes}, op_id)
    return workshop


def set_timer_locks_writing(workshop, locks, *, op_id=None):
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return w.workshop
        workshop = w.workshop
        workshop.timer_locks_writing = locks
        workshop.save(update_fields=["timer_locks_writing"])
        _emit_controls(workshop, "workshops.timer_lock", {"locks": locks}, op_id)
    return workshop


def set_writing_locked(workshop, locked, *, op_id=None):
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return w.workshop
        workshop = w.workshop
        workshop.writing_locked = locked
        workshop.save(update_fields=["writing_locked"])
        _emit_controls(workshop, "workshops.writing_locked", {"locked": locked}, op_id)
    return workshop


def renew_join_link(workshop, *, base_url="", op_id=None):
    """A new link, QR and code; the old ones stop working. Participants stay."""
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return w.workshop
        workshop = w.workshop
        workshop.renew_join_link()
        workshop.save(update_fields=["join_token", "short_code"])
        frames = {
            audience: render_part(
                workshop,
                "workshops/join_panel.html#join_panel",
                audience,
                join_url=base_url + reverse("join", args=[workshop.join_token]),
            )
            if audience in ("facilitator", "projector")
            else ""
            for audience in AUDIENCES
        }
        # The token itself never goes into the event payload (the log is not a secret store).
        emit(workshop, "workshops.join_link_renewed", {}, frames=frames, op_id=op_id)
    return workshop


PROJECTOR_INSTRUCTIONS = ("auto", "shown", "hidden")
PROJECTOR_QR = ("auto", "large", "small")


def set_projector(workshop, *, instructions=None, qr=None, op_id=None):
    """What every projector shows besides the board: the instructions, the QR code's size."""
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return w.workshop
        workshop = w.workshop
        if instructions is None and qr is None:
            raise ActionError(_("Choose what the projector shows."))
        if instructions is not None and instructions not in PROJECTOR_INSTRUCTIONS:
            raise ActionError(_("Unknown choice for the instructions on the projector."))
        if qr is not None and qr not in PROJECTOR_QR:
            raise ActionError(_("Unknown choice for the QR code on the projector."))
        workshop.set_projector(instructions=instructions, qr=qr)
        workshop.save(
            update_fields=[
                "projector_instructions_stage",
                "projector_instructions_shown",
                "projector_qr_large",
            ]
        )
        frames = {
            "facilitator": render_part(
                workshop, "workshops/console.html#projector_panel", "facilitator"
            ),
            "projector": render_part(
                workshop, "workshops/projector.html#projector_state", "projector"
            ),
            "participant": "",
        }
        emit(
            workshop,
            "workshops.projector_changed",
            {"instructions": instructions, "qr": qr},
            frames=frames,
            op_id=op_id,
        )
    return workshop


def remove_participant(workshop, participant, *, op_id=None):
    """Close the participant's sockets; their session no longer works."""
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return participant
        workshop = w.workshop
        participant = Participant.objects.select_for_update().get(
            pk=participant.pk, workshop=workshop
        )
        if participant.removed_at is None:
            participant.remove()
            participant.save(update_fields=["removed_at"])
            tell_participant(workshop.pk, participant.pk, "removed")
            frames = dict.fromkeys(AUDIENCES, "")
            emit(
                workshop,
                "workshops.participant_removed",
                {"participant": participant.pk},
                frames=frames,
                op_id=op_id,
            )
    return participant


def set_done(participant, done, *, op_id=None):
    """A participant taps "I'm done" (or takes it back) on the current stage."""
    with room_write(participant.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return participant
        workshop = w.workshop
        participant = Participant.objects.get(pk=participant.pk)
        participant.done_stage = workshop.current_stage if done else None
        participant.save(update_fields=["done_stage"])
        done_count = (
            workshop.participants.active().filter(done_stage=workshop.current_stage).count()
        )
        frames = {
            "facilitator": render_part(
                workshop, "workshops/console.html#done_count", "facilitator", done_count=done_count
            ),
            "projector": "",
            "participant": "",
        }
        author_frame = render_part(
            workshop,
            "workshops/live.html#done_button",
            "participant",
            participant=participant,
            is_done=done,
        )
        emit(
            workshop,
            "workshops.done",
            {"participant": participant.pk, "done": done},
            frames=frames,
            author_frame=author_frame,
            participant=participant,
            op_id=op_id,
        )
    return participant


# Editing the stages, before or during the workshop ------------------------------


def add_stage(
    workshop,
    *,
    kind,
    title,
    instructions="",
    duration_minutes=15,
    other_configs=None,
    op_id=None,
    **extra,
):
    with room_write(workshop.pk, op_id=op_id) as w:
        if w.prior:
            return Stage.objects.get(pk=w.prior.payload["stage"])
        workshop = w.workshop
        _set_other_configs(workshop, other_configs)
        position = (workshop.stages.aggregate(m=Max("position"))["m"] or 0) + 1
        stage = Stage.objects.create(
            workshop=workshop,
            position=position,
            kind=kind,
            title=title,
            instructions=instructions,
            duration_minutes=duration_minutes,
            config=extra.pop("config", None) or get_kind(kind).default_config(),
            **extra,
        )
        if workshop.current_stage_id is None:
            workshop.current_stage = stage
            workshop.save(update_fields=["current_stage"])
        _emit_live(workshop, "workshops.stage_added", {"stage": stage.pk}, op_id=op_id)
    return stage


def update_stage(stage, *, op_id=None, other_configs=None, **fields):
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk) as w:
        if w.prior:
            return stage
        workshop, stage = w.workshop, w.stage
        _set_other_configs(workshop, other_configs, but=stage.pk)
        for name, value in fields.items():
            setattr(stage, name, value)
        stage.save()
        workshop.refresh_from_db(fields=["current_stage"])
        _emit_live(
            workshop,
            "workshops.stage_updated",
            {"stage": stage.pk, "fields": sorted(fields)},
            op_id=op_id,
        )
    return stage


def _set_other_configs(workshop, other_configs, but=None):
    """Config entries a stage's settings need on its siblings (a mirrored journey's key),
    set only where missing: one found set otherwise since the form was drawn is a 409."""
    for pk, entries in (other_configs or {}).items():
        other = Stage.objects.filter(pk=pk, workshop=workshop).exclude(pk=but).first()
        if other is None:
            raise ActionError(_("This stage no longer exists."), status=404)
        config = dict(other.config or {})
        for name, value in entries.items():
            if config.get(name) not in (None, "", value):
                raise ActionError(
                    _("« %(title)s » changed meanwhile: open the form again.")
                    % {"title": other.title},
                    status=409,
                )
            config[name] = value
        other.config = config
        other.save(update_fields=["config"])


def reveal_stage(stage, revealed=True, *, op_id=None):
    return update_stage(stage, revealed=revealed, op_id=op_id)


def delete_stage(stage, *, op_id=None):
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk) as w:
        if w.prior:
            return w.workshop
        workshop, stage = w.workshop, w.stage
        if workshop.stages.count() <= 1:
            raise ActionError(_("A workshop keeps at least one stage."))
        if workshop.current_stage_id == stage.pk:
            neighbour = (
                workshop.stages.filter(position__gt=stage.position).first()
                or workshop.stages.filter(position__lt=stage.position).last()
            )
            workshop.current_stage = neighbour
            workshop.reset_timer()
            workshop.save()
        stage_pk = stage.pk
        stage.delete()
        _emit_live(workshop, "workshops.stage_deleted", {"stage": stage_pk}, op_id=op_id)
    return workshop


def move_stage(stage, offset, *, op_id=None):
    """Move a stage up (-1) or down (+1) in the running order."""
    with room_write(stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return stage
        workshop = w.workshop
        stages = list(workshop.stages.all())
        index = next((i for i, s in enumerate(stages) if s.pk == stage.pk), None)
        if index is None:
            raise ActionError(_("This stage no longer exists."), status=404)
        target = index + offset
        if 0 <= target < len(stages):
            stages.insert(target, stages.pop(index))
            for position, s in enumerate(stages):
                if s.position != position:
                    Stage.objects.filter(pk=s.pk).update(position=position)
        _emit_live(
            workshop, "workshops.stage_moved", {"stage": stage.pk, "offset": offset}, op_id=op_id
        )
    return stage


# Helpers -----------------------------------------------------------------------------


def _emit_live(workshop, type, payload, *, op_id=None, reset_done=False):
    """Redraw the live region everywhere, and the stage list on the console."""
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    stages = list(workshop.stages.all())  # once for the three audiences and the stage list
    frames = {
        # Moving resets the timer and everyone's "I'm done": the controls must say so.
        audience: render_regions(
            workshop,
            audience,
            stages=stages,
            controls=reset_done,
            done_count=0 if reset_done else None,
            is_done=False if reset_done else None,
        )[0]
        for audience in AUDIENCES
    }
    stage = workshop.current_stage
    owners = get_kind(stage.kind).owners(stage) if stage else {}
    return emit(
        workshop, type, payload, frames=frames, owners=owners, op_id=op_id, whole_owners=True
    )


# For an app's write that adds stages (a review): the same redraw as a stage added here.
emit_live = _emit_live


def _emit_controls(workshop, type, payload, op_id):
    """Redraw the timer and writing state everywhere, and the console's controls."""
    frames = {}
    for audience in AUDIENCES:
        html = render_part(workshop, "workshops/live.html#timer", audience)
        html += render_part(workshop, "workshops/live.html#writing_state", audience)
        if audience == "facilitator":
            html += render_part(workshop, "workshops/console.html#controls", audience)
        frames[audience] = html
    return emit(workshop, type, payload, frames=frames, op_id=op_id)


# Forgetting ----------------------------------------------------------------------------


def delete_workshop(workshop):
    """Hard delete: participants, post-its, events, sockets and export files go too."""
    from .exports.storage import remove_exports

    workshop_pk = workshop.pk
    with transaction.atomic():
        Workshop.objects.filter(pk=workshop_pk).delete()
        transaction.on_commit(lambda: remove_exports(workshop_pk))
