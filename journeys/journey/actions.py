"""Writes on a journey. Each is one transaction, one event, one push.

The console and the projector get the journey board redrawn (`#jboard-<stage>`);
phones get a one-line tick that makes each phone fetch its own panel (its
situation, its step, its side, its own post-its on a private stage).
"""

from django.conf import settings
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workshops.live.regions import render_part
from workshops.live.write import AUDIENCES, ActionError, clean_text, emit, room_write
from workshops.models import Stage, Workshop

from . import grid
from .models import NAME_MAX_LENGTH, Emotion, JourneyPostIt, Mark, Phase, Situation, Step

TEMPLATE = "journeys/journey/journey.html"
_JOURNEY = {"kind": grid.KIND, "wrong_kind": gettext_lazy("This stage is not a journey.")}
MAX_SITUATIONS = 12
MAX_STEPS = 24
VIEWS = ("grid", "heatmap", "compare")


def _name(text, empty):
    return " ".join(clean_text(text, NAME_MAX_LENGTH, multiline=False, empty=empty).split())


# Situations and steps ---------------------------------------------------------------------


def add_situation(stage, *, participant, name, op_id=None):
    """The facilitator adds a situation; a participant proposes one."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        **_JOURNEY,
        writing=True,
    ) as w:
        if w.prior:
            return Situation.objects.filter(pk=w.prior.payload.get("situation")).first()
        source = _editable_source(w.stage)
        name = _name(name, _("Name the situation."))
        if Situation.objects.filter(stage=source).count() >= MAX_SITUATIONS:
            raise ActionError(_("This journey has enough situations."), status=409)
        position = Situation.objects.filter(stage=source).aggregate(m=Max("position"))["m"] or 0
        situation = Situation.objects.create(
            stage=source,
            name=name,
            position=position + 1,
            proposed=participant is not None,
            author=participant,
        )
        _emit(
            w.workshop,
            w.stage,
            "journeys.situation_added",
            {"situation": situation.pk},
            op_id,
            participant,
        )
    return situation


def edit_situation(situation, *, name=None, adopt=False, op_id=None):
    with room_write(situation.stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return situation
        situation = _get(Situation, w.workshop, situation.pk, _("This situation no longer exists."))
        if name is not None:
            situation.name = _name(name, _("Name the situation."))
        if adopt:
            situation.proposed = False
        situation.save()
        _emit(
            w.workshop,
            situation.stage,
            "journeys.situation_edited",
            {"situation": situation.pk},
            op_id,
            None,
        )
    return situation


def delete_situation(situation, *, op_id=None):
    with room_write(situation.stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return
        situation = _get(Situation, w.workshop, situation.pk, _("This situation no longer exists."))
        stage, pk = situation.stage, situation.pk
        situation.delete()
        _emit(w.workshop, stage, "journeys.situation_deleted", {"situation": pk}, op_id, None)


def add_step(stage, *, participant, name, phase="", moment_of_truth=False, op_id=None):
    """The facilitator adds a step at the end; a participant proposes one."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        **_JOURNEY,
        writing=True,
    ) as w:
        if w.prior:
            return Step.objects.filter(pk=w.prior.payload.get("step")).first()
        source = _editable_source(w.stage)
        name = _name(name, _("Name the step."))
        phase = _phase(phase)
        if Step.objects.filter(stage=source).count() >= MAX_STEPS:
            raise ActionError(_("This journey has enough steps."), status=409)
        position = Step.objects.filter(stage=source).aggregate(m=Max("position"))["m"] or 0
        step = Step.objects.create(
            stage=source,
            name=name,
            phase=phase,
            moment_of_truth=bool(moment_of_truth),
            position=position + 1,
            proposed=participant is not None,
            author=participant,
        )
        _emit(w.workshop, w.stage, "journeys.step_added", {"step": step.pk}, op_id, participant)
    return step


def edit_step(step, *, name, phase="", moment_of_truth=False, adopt=False, op_id=None):
    """Rename a step, set its phase and whether it is a moment of truth; adopt a proposal."""
    with room_write(step.stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return step
        step = _get(Step, w.workshop, step.pk, _("This step no longer exists."))
        step.name = _name(name, _("Name the step."))
        step.phase = _phase(phase)
        step.moment_of_truth = bool(moment_of_truth)
        if adopt:
            step.proposed = False
        step.save()
        _emit(w.workshop, step.stage, "journeys.step_edited", {"step": step.pk}, op_id, None)
    return step


def move_step(step, *, direction, op_id=None):
    """One place earlier ("up") or later ("down"), among the journey's steps."""
    with room_write(step.stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return step
        step = _get(Step, w.workshop, step.pk, _("This step no longer exists."))
        if direction not in ("up", "down"):
            raise ActionError(_("Move it up or down."))
        steps = list(Step.objects.filter(stage=step.stage, proposed=False))
        index = next((i for i, s in enumerate(steps) if s.pk == step.pk), None)
        if index is None:
            raise ActionError(_("Adopt the step before moving it."))
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(steps):
            steps[index], steps[other] = steps[other], steps[index]
            for position, item in enumerate(steps, 1):
                if item.position != position:
                    Step.objects.filter(pk=item.pk).update(position=position)
        _emit(
            w.workshop,
            step.stage,
            "journeys.step_moved",
            {"step": step.pk, "direction": direction},
            op_id,
            None,
        )
    return step


def delete_step(step, *, op_id=None):
    """The step goes, with its post-its and emotions."""
    with room_write(step.stage.workshop_id, op_id=op_id) as w:
        if w.prior:
            return
        step = _get(Step, w.workshop, step.pk, _("This step no longer exists."))
        stage, pk = step.stage, step.pk
        step.delete()
        _emit(w.workshop, stage, "journeys.step_deleted", {"step": pk}, op_id, None)


# Post-its --------------------------------------------------------------------------------


def add_postit(stage, *, participant, situation, step, perspective, colour, text, op_id=None):
    """A post-it in a cell: situation, step, perspective; green, orange or red."""
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        **_JOURNEY,
        writing=True,
    ) as w:
        if w.prior:
            return JourneyPostIt.objects.filter(pk=w.prior.payload.get("postit")).first()
        stage = w.stage
        text = clean_text(text, settings.RECIPROQUE["POSTIT_MAX_LENGTH"])
        situation, step, perspective = _cell(stage, situation, step, perspective)
        if colour not in Mark.values:
            raise ActionError(_("Choose a colour: green, orange or red."))
        postit = JourneyPostIt.objects.create(
            workshop=w.workshop,
            stage=stage,
            situation=situation,
            step=step,
            perspective=perspective,
            colour=colour,
            text=text,
            author=participant,
            op_id=op_id or "",
        )
        _emit(
            w.workshop,
            stage,
            "journeys.journey_postit_added",
            {"postit": postit.pk, "stage": stage.pk, "colour": colour},
            op_id,
            participant,
        )
    return postit


def edit_postit(postit, *, participant, text, colour, step=None, perspective=None, op_id=None):
    """Change the words or the colour, or move it to another step or perspective (by tapping)."""
    with room_write(postit.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return JourneyPostIt.objects.filter(pk=postit.pk).first()
        postit = _postit(w.workshop, postit.pk, participant)
        stage = w.load_stage(postit.stage_id, **_JOURNEY, writing=True)
        postit.text = clean_text(text, settings.RECIPROQUE["POSTIT_MAX_LENGTH"])
        if colour not in Mark.values:
            raise ActionError(_("Choose a colour: green, orange or red."))
        postit.colour = colour
        _situation, postit.step, postit.perspective = _cell(
            stage,
            postit.situation_id,
            step if step not in (None, "") else postit.step_id,
            perspective or postit.perspective,
        )
        postit.save()
        _emit(
            w.workshop,
            stage,
            "journeys.journey_postit_edited",
            {"postit": postit.pk},
            op_id,
            participant,
        )
    return postit


def delete_postit(postit, *, participant, op_id=None):
    with room_write(postit.workshop_id, op_id=op_id, participant=participant) as w:
        if w.prior:
            return
        postit = _postit(w.workshop, postit.pk, participant)
        stage = w.load_stage(postit.stage_id, **_JOURNEY, writing=True)
        pk = postit.pk
        postit.delete()
        _emit(
            w.workshop, stage, "journeys.journey_postit_deleted", {"postit": pk}, op_id, participant
        )


# Emotions --------------------------------------------------------------------------------


def rate(stage, *, participant, situation, step, perspective, value, op_id=None):
    """How the step felt, −2 to +2: one rating per person, step and side ("" takes it back)."""
    if participant is None:
        raise ActionError(_("Only participants rate their emotions."), status=403)
    with room_write(
        stage.workshop_id,
        op_id=op_id,
        participant=participant,
        stage_id=stage.pk,
        **_JOURNEY,
        writing=True,
    ) as w:
        if w.prior:
            return Emotion.objects.filter(pk=w.prior.payload.get("emotion")).first()
        stage = w.stage
        situation, step, perspective = _cell(stage, situation, step, perspective)
        key = {
            "stage": stage,
            "participant": participant,
            "situation": situation,
            "step": step,
            "perspective": perspective,
        }
        if value in (None, ""):
            Emotion.objects.filter(**key).delete()
            emotion = None
        else:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ActionError(_("Choose a face from −2 to +2.")) from None
            if not -2 <= value <= 2:
                raise ActionError(_("Choose a face from −2 to +2."))
            emotion, _created = Emotion.objects.update_or_create(**key, defaults={"value": value})
        _emit(
            w.workshop,
            stage,
            "journeys.emotion_rated",
            {"emotion": emotion.pk if emotion else None, "value": value},
            op_id,
            participant,
        )
    return emotion


# The console's view ----------------------------------------------------------------------


def set_view(stage, *, view, situation=None, op_id=None):
    """Grid, heat-map or comparison, and which situation: the console and the projector follow."""
    with room_write(stage.workshop_id, op_id=op_id, stage_id=stage.pk, **_JOURNEY) as w:
        if w.prior:
            return
        stage = w.stage
        if view not in VIEWS or (view == "compare" and not grid.source_of(stage).pk != stage.pk):
            raise ActionError(_("Choose the grid, the heat-map or the comparison."))
        config = dict(stage.config or {})
        config["view"] = view
        if situation not in (None, ""):
            source = grid.source_of(stage)
            found = Situation.objects.filter(stage=source, pk=_int(situation), proposed=False)
            if not found.exists():
                raise ActionError(_("This situation no longer exists."), status=404)
            config["situation"] = _int(situation)
        stage.config = config
        stage.save(update_fields=["config"])
        _emit(w.workshop, stage, "journeys.journey_view", {"view": view}, op_id, None)


# Helpers ---------------------------------------------------------------------------------


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ActionError(_("This step no longer exists."), status=404) from None
    if not 0 < number < 2**63:
        raise ActionError(_("This step no longer exists."), status=404)
    return number


def _phase(phase):
    phase = phase or ""
    if phase not in Phase.values:
        raise ActionError(_("Choose a phase: before, during or after."))
    return phase


def _editable_source(stage):
    source = grid.source_of(stage)
    if source.pk != stage.pk:
        raise ActionError(
            _("This journey mirrors « %(title)s »: its steps and situations are edited there.")
            % {"title": source.title},
            status=409,
        )
    return stage


def _cell(stage, situation, step, perspective):
    """The situation, step and perspective of a cell of this journey, or a clear refusal."""
    source = grid.source_of(stage)
    situation_id = situation.pk if isinstance(situation, Situation) else situation
    step_id = step.pk if isinstance(step, Step) else step
    found = Situation.objects.filter(stage=source, pk=_int(situation_id), proposed=False).first()
    if found is None:
        raise ActionError(_("Choose a situation."), status=404)
    found_step = Step.objects.filter(stage=source, pk=_int(step_id), proposed=False).first()
    if found_step is None:
        raise ActionError(_("This step no longer exists."), status=404)
    if perspective not in [p["key"] for p in grid.perspectives_of(stage)]:
        raise ActionError(_("Choose a perspective."))
    return found, found_step, perspective


def _get(model, workshop, pk, missing):
    found = model.objects.select_related("stage").filter(pk=pk, stage__workshop=workshop).first()
    if found is None:
        raise ActionError(missing, status=404)
    return found


def _postit(workshop, pk, participant):
    postit = JourneyPostIt.objects.filter(pk=pk, workshop=workshop).first()
    if postit is None:
        raise ActionError(_("This post-it no longer exists."), status=404)
    if participant is not None and postit.author_id != participant.pk:
        raise ActionError(_("You can only change your own post-its."), status=403)
    return postit


def _shown_stages(workshop, stage):
    """The current stage when it shows this journey: the stage itself or one that mirrors it."""
    current_id = Workshop.objects.filter(pk=workshop.pk).values_list("current_stage", flat=True)[0]
    if current_id is None:
        return None
    if current_id == stage.pk:
        return stage
    current = Stage.objects.filter(pk=current_id, kind=grid.KIND).first()
    if current is not None and grid.source_of(current).pk == stage.pk:
        return current
    return None


def frames_for(workshop, stage):
    """The redrawn board for the console and the projector, and the phones' tick."""
    from .kind import board_context

    frames = {}
    with translation.override(workshop.language):
        for audience in AUDIENCES:
            context = board_context(stage, audience, None)
            frames[audience] = render_part(
                workshop, f"{TEMPLATE}#board_push", audience, stage=stage, **context
            )
    return frames


def _emit(workshop, stage, type, payload, op_id, participant):
    shown = _shown_stages(workshop, stage)
    frames = frames_for(workshop, shown) if shown else dict.fromkeys(AUDIENCES, "")
    emit(workshop, type, payload, frames=frames, op_id=op_id, participant=participant)
