"""The journey's views: the phone's panel, and the writes (through journeys.journey.actions).

A phone's panel is its own: which situation, step and side it looks at is kept
in its session, so the tick pushed to every phone redraws each one as it was.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from workshops.access import facilitator_required, member_required, participant_required
from workshops.http import done, error_response, handles_action_errors, op_id_from
from workshops.live.write import ActionError
from workshops.models import Stage

from . import actions, grid
from .kind import board_context
from .models import Emotion, JourneyPostIt, Situation, Step

TEMPLATE = "journeys/journey/journey.html"


def _stage(workshop, stage_pk):
    return get_object_or_404(Stage, pk=stage_pk, workshop=workshop, kind=grid.KIND)


def _int_or_none(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _focus(request, stage, built, participant, params=None):
    """Which situation, step and side this person looks at: the request, their session, defaults."""
    params = params if params is not None else request.GET
    key = f"journey:{stage.pk}"
    saved = dict(request.session.get(key) or {})
    situations = {s.pk: s for s in built["situations"]}
    steps = built["steps"]
    sides = [p["key"] for p in built["perspectives"]]
    situation_id = _int_or_none(params.get("situation")) or saved.get("situation")
    if situation_id not in situations:
        situation_id = built["situations"][0].pk if built["situations"] else None
    step_id = _int_or_none(params.get("step")) or saved.get("step")
    if step_id not in {s.pk for s in steps}:
        step_id = steps[0].pk if steps else None
    side = params.get("side") or saved.get("side")
    if side not in sides:
        side = grid.default_perspective(stage, participant)
    if params.get("cancel") or params.get("step") or params.get("situation"):
        saved.pop("editing", None)  # the edit was left
    saved.update({"situation": situation_id, "step": step_id, "side": side})
    saved.setdefault("gen", 0)
    request.session[key] = saved
    focus = {
        "situation": situations.get(situation_id),
        "side": side,
        "gen": saved["gen"],
        # The post-it this phone is editing stays a form across the room's redraws.
        "editing": saved.get("editing"),
    }
    focus["side_label"] = next(p["label"] for p in built["perspectives"] if p["key"] == side)
    index = next((i for i, s in enumerate(steps) if s.pk == step_id), None)
    if index is None or focus["situation"] is None:
        focus["step"] = None
        return focus
    focus["step"] = steps[index]
    focus["next"] = steps[index + 1] if index + 1 < len(steps) else None
    board = next(b for b in built["boards"] if b["situation"].pk == situation_id)
    column = board["by_step"][index]
    focus["rupture"] = column["rupture"]
    lanes = []
    for perspective, lane in zip(built["perspectives"], column["lanes"], strict=True):
        postits = lane["postits"]
        if stage.is_hidden:
            postits = [p for p in postits if participant and p.author_id == participant.pk]
        lanes.append({**perspective, "postits": postits})
    # Your side first: what you write is what you read first.
    lanes.sort(key=lambda lane: lane["key"] != side)
    focus["lanes"] = lanes
    focus["rating"] = None
    if participant is not None:
        focus["rating"] = (
            Emotion.objects.filter(
                stage=stage,
                participant=participant,
                situation_id=situation_id,
                step_id=step_id,
                perspective=side,
            )
            .values_list("value", flat=True)
            .first()
        )
    return focus


def _panel(request, workshop, participant, stage, status=200, params=None, **extra):
    stage = Stage.objects.get(pk=stage.pk)
    with translation.override(workshop.language):
        built = grid.build(stage)
        context = {
            "workshop": workshop,
            "stage": stage,
            "participant": participant,
            "is_facilitator": participant is None,
            "journey": built,
            "hidden": stage.is_hidden,
            "marks": grid.marks(),
            "feelings": grid.feelings(),
            "focus": _focus(request, stage, built, participant, params),
            **extra,
        }
        html = render_to_string(f"{TEMPLATE}#panel", context, request=request)
    return HttpResponse(html, status=status)


def _editing(request, stage, pk):
    """Which post-it this phone has open for editing (None: none)."""
    key = f"journey:{stage.pk}"
    saved = dict(request.session.get(key) or {})
    if pk is None:
        saved.pop("editing", None)
    else:
        saved["editing"] = pk
    request.session[key] = saved


def _next_draft(request, stage):
    """A fresh compose box after a post (the old one, kept across redraws, held the text)."""
    key = f"journey:{stage.pk}"
    saved = dict(request.session.get(key) or {})
    saved["gen"] = saved.get("gen", 0) + 1
    request.session[key] = saved


def _refused(request, workshop, participant, stage, error):
    if request.htmx and participant is not None:
        return _panel(
            request, workshop, participant, stage, error.status, params={}, error=error.message
        )
    return error_response(request, error.message, error.status)


@require_GET
@member_required
def panel(request, workshop, participant, stage_pk):
    stage = _stage(workshop, stage_pk)
    return _panel(request, workshop, participant, stage)


@require_GET
@member_required
def form_closed(request, workshop, participant, stage_pk):
    _stage(workshop, stage_pk)
    return HttpResponse("")


@require_POST
@member_required
def add_postit(request, workshop, participant, stage_pk):
    stage = _stage(workshop, stage_pk)
    try:
        actions.add_postit(
            stage,
            participant=participant,
            situation=request.POST.get("situation"),
            step=request.POST.get("step"),
            perspective=request.POST.get("perspective", ""),
            colour=request.POST.get("colour", ""),
            text=request.POST.get("text", ""),
            op_id=op_id_from(request),
        )
    except ActionError as error:
        if participant is None and request.htmx:
            return _console_refused(workshop, stage, error)
        return _refused(request, workshop, participant, stage, error)
    if participant is None:
        # The console: the board it shows comes back with the push, the form with it.
        return done(request)
    _next_draft(request, stage)
    if not request.htmx:
        return done(request)
    return _panel(request, workshop, participant, stage, params={})


def _console_refused(workshop, stage, error):
    """The console's compose form refused: its error line (live.js's queue shows it)."""
    with translation.override(workshop.language):
        html = render_to_string(
            f"{TEMPLATE}#console_error", {"stage": stage, "error": error.message}
        )
    return HttpResponse(html, status=error.status)


def _own_postit(workshop, participant, postit_pk):
    postit = get_object_or_404(
        JourneyPostIt.objects.select_related("stage"), pk=postit_pk, workshop=workshop
    )
    if participant is not None and postit.author_id != participant.pk:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return postit


@require_http_methods(["GET", "POST"])
@member_required
def edit_postit(request, workshop, participant, postit_pk):
    postit = _own_postit(workshop, participant, postit_pk)
    stage = postit.stage
    if request.method == "POST":
        try:
            actions.edit_postit(
                postit,
                participant=participant,
                text=request.POST.get("text", ""),
                colour=request.POST.get("colour", ""),
                step=request.POST.get("step") or None,
                perspective=request.POST.get("perspective") or None,
                op_id=op_id_from(request),
            )
        except ActionError as error:
            if not request.htmx:
                return error_response(request, error.message, error.status)
            return _edit_form(
                request,
                workshop,
                participant,
                postit,
                error.status,
                error=error.message,
                text=request.POST.get("text", ""),
            )
        if not request.htmx:
            return done(request)
        if participant is None:
            return HttpResponse("")
        _editing(request, stage, None)
        return _panel(request, workshop, participant, stage, params={})
    if participant is not None:
        _editing(request, stage, postit.pk)
    return _edit_form(request, workshop, participant, postit)


def _edit_form(request, workshop, participant, postit, status=200, **extra):
    with translation.override(workshop.language):
        context = {
            "workshop": workshop,
            "stage": postit.stage,
            "participant": participant,
            "postit": postit,
            "journey": grid.build(postit.stage, hidden=True),
            "marks": grid.marks(),
            **extra,
        }
        html = render_to_string(f"{TEMPLATE}#edit_form", context, request=request)
    return HttpResponse(html, status=status)


@require_POST
@member_required
def delete_postit(request, workshop, participant, postit_pk):
    postit = _own_postit(workshop, participant, postit_pk)
    stage = postit.stage
    try:
        actions.delete_postit(postit, participant=participant, op_id=op_id_from(request))
    except ActionError as error:
        return _refused(request, workshop, participant, stage, error)
    if participant is not None:
        _editing(request, stage, None)
    if not request.htmx:
        return done(request)
    if participant is None:
        return HttpResponse("")
    return _panel(request, workshop, participant, stage, params={})


@require_POST
@participant_required
def rate(request, workshop, participant, stage_pk):
    stage = _stage(workshop, stage_pk)
    try:
        actions.rate(
            stage,
            participant=participant,
            situation=request.POST.get("situation"),
            step=request.POST.get("step"),
            perspective=request.POST.get("perspective", ""),
            value=request.POST.get("value", ""),
            op_id=op_id_from(request),
        )
    except ActionError as error:
        return _refused(request, workshop, participant, stage, error)
    if not request.htmx:
        return done(request)
    return _panel(request, workshop, participant, stage, params={})


@require_POST
@member_required
def situation_add(request, workshop, participant, stage_pk):
    stage = _stage(workshop, stage_pk)
    try:
        actions.add_situation(
            stage,
            participant=participant,
            name=request.POST.get("name", ""),
            op_id=op_id_from(request),
        )
    except ActionError as error:
        return _refused(request, workshop, participant, stage, error)
    if participant is None or not request.htmx:
        return done(request)
    return _panel(request, workshop, participant, stage, params={}, proposed=True)


@require_POST
@member_required
def step_add(request, workshop, participant, stage_pk):
    stage = _stage(workshop, stage_pk)
    try:
        actions.add_step(
            stage,
            participant=participant,
            name=request.POST.get("name", ""),
            phase=request.POST.get("phase", "") if participant is None else "",
            moment_of_truth=participant is None and bool(request.POST.get("moment_of_truth")),
            op_id=op_id_from(request),
        )
    except ActionError as error:
        return _refused(request, workshop, participant, stage, error)
    if participant is None or not request.htmx:
        return done(request)
    return _panel(request, workshop, participant, stage, params={}, proposed=True)


@require_POST
@facilitator_required
@handles_action_errors
def situation_edit(request, workshop, situation_pk):
    situation = get_object_or_404(Situation, pk=situation_pk, stage__workshop=workshop)
    actions.edit_situation(
        situation,
        name=request.POST.get("name", ""),
        adopt=bool(request.POST.get("adopt")),
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def situation_delete(request, workshop, situation_pk):
    situation = get_object_or_404(Situation, pk=situation_pk, stage__workshop=workshop)
    actions.delete_situation(situation, op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def step_edit(request, workshop, step_pk):
    step = get_object_or_404(Step, pk=step_pk, stage__workshop=workshop)
    actions.edit_step(
        step,
        name=request.POST.get("name", ""),
        phase=request.POST.get("phase", ""),
        moment_of_truth=bool(request.POST.get("moment_of_truth")),
        adopt=bool(request.POST.get("adopt")),
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def step_move(request, workshop, step_pk):
    step = get_object_or_404(Step, pk=step_pk, stage__workshop=workshop)
    actions.move_step(step, direction=request.POST.get("direction", ""), op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def step_delete(request, workshop, step_pk):
    step = get_object_or_404(Step, pk=step_pk, stage__workshop=workshop)
    actions.delete_step(step, op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def view(request, workshop, stage_pk):
    stage = _stage(workshop, stage_pk)
    actions.set_view(
        stage,
        view=request.POST.get("view", ""),
        situation=request.POST.get("situation") or None,
        op_id=op_id_from(request),
    )
    return done(request)


__all__ = ["board_context"]
