"""The map's short forms (phones and laptop alike) and its writes.

A form is fetched when someone opens it (`hx-get` into the stage's form slot,
or a plain page without JavaScript), so its pickers list the actors of that
moment and its operation id is that person's own. Writes go through
`mapping.actions`; the room sees them through the push.
"""

from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from workshops.access import facilitator_required, member_required
from workshops.http import done, error_response, handles_action_errors, op_id_from
from workshops.live.write import ActionError, malformed
from workshops.models import Stage

from . import actions
from .kinds import SIDES, build_map, labels_of
from .models import Flow, FlowKind, Scope

TEMPLATE = "mapping/map.html"
ACTOR_FIELDS = ("name", "circle", "scope", "description")
FLOW_FIELDS = ("source", "target", "kind", "label", "they_expect", "we_expect", "mismatch")


def _map_stage(workshop, stage_pk):
    return get_object_or_404(Stage, pk=stage_pk, workshop=workshop, kind="map")


def _form_context(workshop, stage, participant, **extra):
    built = build_map(stage)
    return {
        "workshop": workshop,
        "stage": stage,
        "participant": participant,
        "is_facilitator": participant is None,
        "map": built,
        "labels": labels_of(stage),
        "side_choices": [(c, built["labels"]["circles"][c]) for c in SIDES],
        "scope_choices": Scope.choices,
        "kind_choices": FlowKind.choices,
        "pickers": _pickers(built),
        **extra,
    }


def _pickers(built):
    """The actors to pick a flow's ends from, grouped by circle."""
    groups = []
    for circle in built["circles"]:
        groups.append(
            {
                "label": circle["label"],
                "actors": [(a.ref, a.display_name) for a in circle["actors"]],
            }
        )
    return groups


def _show_form(request, workshop, participant, stage, partial, context, status=200):
    """The form in the stage's slot (htmx), or on a page of its own."""
    with translation.override(workshop.language):
        template = f"{TEMPLATE}#{partial}" if request.htmx else "mapping/form_page.html"
        context = {**context, "form_partial": f"{TEMPLATE}#{partial}"}
        return render(request, template, context, status=status)


def _refused(request, workshop, participant, stage, partial, context, error):
    if request.htmx or request.method == "POST":
        context = {**context, "error": error.message, "values": request.POST}
        return _show_form(request, workshop, participant, stage, partial, context, error.status)
    return error_response(request, error.message, error.status)


# Actors ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required
def actor_new(request, workshop, participant, stage_pk):
    stage = _map_stage(workshop, stage_pk)
    context = _form_context(workshop, stage, participant)
    if request.method == "POST":
        try:
            actions.add_actor(
                stage,
                participant=participant,
                name=request.POST.get("name", ""),
                circle=request.POST.get("circle", ""),
                scope=request.POST.get("scope") or Scope.INTERNAL,
                description=request.POST.get("description", ""),
                op_id=op_id_from(request),
            )
        except ActionError as error:
            return _refused(request, workshop, participant, stage, "actor_form", context, error)
        return done(request)
    initial = request.GET.get("circle")
    values = {"circle": initial if initial in SIDES else "", "scope": Scope.INTERNAL}
    return _show_form(
        request, workshop, participant, stage, "actor_form", {**context, "values": values}
    )


@require_http_methods(["GET", "POST"])
@member_required
def actor_edit(request, workshop, participant, stage_pk, ref):
    stage = _map_stage(workshop, stage_pk)
    context = _form_context(workshop, stage, participant)
    actor = next((a for a in context["map"]["actors"] if a.ref == ref), None)
    if actor is None:
        return error_response(request, _no_actor(), 404)
    context["actor"] = actor
    if request.method == "POST":
        try:
            actions.edit_actor(
                stage,
                ref,
                participant=participant,
                name=request.POST.get("name", ""),
                circle=request.POST.get("circle") or None,
                scope=request.POST.get("scope") or Scope.INTERNAL,
                description=request.POST.get("description", ""),
                op_id=op_id_from(request),
            )
        except ActionError as error:
            return _refused(request, workshop, participant, stage, "actor_form", context, error)
        return done(request)
    values = {
        "name": actor.name,
        "circle": actor.circle,
        "scope": actor.scope,
        "description": actor.description,
    }
    return _show_form(
        request, workshop, participant, stage, "actor_form", {**context, "values": values}
    )


@require_POST
@member_required
@handles_action_errors
def actor_delete(request, workshop, participant, stage_pk, ref):
    stage = _map_stage(workshop, stage_pk)
    actions.delete_actor(stage, ref, participant=participant, op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def actor_move(request, workshop, stage_pk, ref):
    """The final position of a drag or of keyboard nudges; "reset" puts it back in its slot."""
    stage = _map_stage(workshop, stage_pk)
    if request.POST.get("reset"):
        x = y = None
    else:
        x, y = request.POST.get("x"), request.POST.get("y")
        if x in (None, "") or y in (None, ""):
            raise ActionError(_bad_position())
    actions.move_actor(stage, ref, x=x, y=y, op_id=op_id_from(request))
    return done(request)


# Flows ------------------------------------------------------------------------------------


def _flow_values(request):
    return {name: request.POST.get(name, "") for name in FLOW_FIELDS}


@require_http_methods(["GET", "POST"])
@member_required
def flow_new(request, workshop, participant, stage_pk):
    stage = _map_stage(workshop, stage_pk)
    context = _form_context(workshop, stage, participant)
    if request.method == "POST":
        try:
            actions.add_flow(
                stage, participant=participant, op_id=op_id_from(request), **_flow_values(request)
            )
        except ActionError as error:
            return _refused(request, workshop, participant, stage, "flow_form", context, error)
        return done(request)
    values = {"kind": FlowKind.INFORMATION}
    for end in ("source", "target"):
        if request.GET.get(end):
            values[end] = request.GET[end]
    return _show_form(
        request, workshop, participant, stage, "flow_form", {**context, "values": values}
    )


@require_http_methods(["GET", "POST"])
@member_required
def flow_edit(request, workshop, participant, flow_pk):
    flow = get_object_or_404(Flow.objects.select_related("stage"), pk=flow_pk, workshop=workshop)
    stage = flow.stage
    context = _form_context(workshop, stage, participant, flow=flow)
    if request.method == "POST":
        try:
            actions.edit_flow(
                flow, participant=participant, op_id=op_id_from(request), **_flow_values(request)
            )
        except ActionError as error:
            return _refused(request, workshop, participant, stage, "flow_form", context, error)
        return done(request)
    refs = {a.pk: a.ref for a in context["map"]["actors"]}
    values = {
        "source": refs.get(flow.source_id, ""),
        "target": refs.get(flow.target_id, ""),
        "kind": flow.kind,
        "label": flow.label,
        "they_expect": flow.they_expect,
        "we_expect": flow.we_expect,
        "mismatch": flow.mismatch,
    }
    return _show_form(
        request, workshop, participant, stage, "flow_form", {**context, "values": values}
    )


@require_POST
@member_required
@handles_action_errors
def flow_delete(request, workshop, participant, flow_pk):
    flow = get_object_or_404(Flow, pk=flow_pk, workshop=workshop)
    actions.delete_flow(flow, participant=participant, op_id=op_id_from(request))
    return done(request)


@require_POST
@member_required
@handles_action_errors
def flow_rate(request, workshop, participant, flow_pk):
    flow = get_object_or_404(Flow, pk=flow_pk, workshop=workshop)
    if "rating" not in request.POST:  # "" takes the mark off; nothing at all is malformed
        raise ActionError(malformed())
    actions.rate_flow(
        flow,
        participant=participant,
        rating=request.POST["rating"],
        op_id=op_id_from(request),
    )
    return done(request)


@require_GET
@member_required
def form_closed(request, workshop, participant, stage_pk):
    """Cancel: the slot empties (htmx), or back to the live page."""
    _map_stage(workshop, stage_pk)
    return done(request)


def _no_actor():
    return _("This actor is no longer on the map.")


def _bad_position():
    return _("This position is not on the map.")
