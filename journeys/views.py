from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from workshops.access import (
    acting_participant,
    facilitator_required,
    member_required,
    participant_required,
)
from workshops.http import done, error_response, handles_action_errors, op_id_from
from workshops.live.write import ActionError, form_id
from workshops.models import Stage

from . import actions
from .kinds import colour_choices, postit_context, postit_trace
from .models import Cluster, PostIt

TEMPLATE = "journeys/wall.html"


def _audience(participant):
    return "participant" if participant else "facilitator"


def _postit_context(workshop, postit, participant, **extra):
    stage = postit.stage
    return postit_context(
        stage,
        workshop=workshop,
        postit=postit,
        participant=participant,
        audience=_audience(participant),
        is_facilitator=participant is None,
        hidden_count=PostIt.objects.filter(stage=stage).count() if stage.is_hidden else 0,
        colour_choices=colour_choices(stage),
        author_view=True,
        **postit_trace(stage, postit),
        **extra,
    )


def _editable_postit(workshop, participant, postit_pk):
    postit = get_object_or_404(
        PostIt.objects.select_related("stage", "author"), pk=postit_pk, workshop=workshop
    )
    if participant is not None and postit.author_id != participant.pk:
        raise PermissionDenied
    return postit


@require_POST
@member_required
def add_postit(request, workshop, participant, stage_pk):
    # The action loads the stage itself, under the workshop's lock (a stage of
    # another workshop is a 404 there): no need to load it twice.
    stage = Stage(pk=stage_pk, workshop_id=workshop.pk)
    try:
        postit = actions.add_postit(
            stage,
            participant=acting_participant(request, workshop, participant),
            text=request.POST.get("text", ""),
            column=request.POST.get("column") or None,
            colour=request.POST.get("colour") or None,
            verbatim=request.POST.get("verbatim") == "1",
            op_id=op_id_from(request),
        )
    except ActionError as error:
        if request.htmx:
            with translation.override(workshop.language):
                html = render_to_string(
                    f"{TEMPLATE}#error", {"stage": stage, "error": error.message}, request=request
                )
            return _reply(html, error.status)
        if error.status == 404:  # no such stage in this workshop
            raise Http404 from None
        return error_response(request, error.message, error.status)
    if postit is None:  # retried after the post-it was deleted
        return done(request)
    frames = getattr(postit, "event_frames", None)
    if frames is not None:
        # What the writer's page gets pushed is what it needs now: no second render.
        # (The facilitator writing for someone is still the console: its own frame.)
        html = (participant and frames.get("author")) or frames[_audience(participant)]
    else:  # a retry: the post-it as it is now
        with translation.override(workshop.language):
            html = render_to_string(
                f"{TEMPLATE}#postit_added",
                _postit_context(workshop, postit, participant),
                request=request,
            )
    return _with_seq(done(request, html), postit)


@require_http_methods(["GET", "POST"])
@member_required
def edit_postit(request, workshop, participant, postit_pk):
    postit = _editable_postit(workshop, participant, postit_pk)
    if request.method == "POST":
        try:
            postit = actions.edit_postit(
                postit,
                participant=participant,
                text=request.POST.get("text", ""),
                colour=request.POST.get("colour") or None,
                # Only a form that showed the box says "not a quote" by leaving it unticked.
                verbatim=(request.POST.get("verbatim") == "1")
                if request.POST.get("verbatim_shown")
                else None,
                op_id=op_id_from(request),
            )
        except ActionError as error:
            if not request.htmx:
                return error_response(request, error.message, error.status)
            context = _postit_context(
                workshop,
                postit,
                participant,
                error=error.message,
                text=request.POST.get("text", ""),
            )
            with translation.override(workshop.language):
                return render(request, f"{TEMPLATE}#edit_form", context, status=error.status)
        with translation.override(workshop.language):
            return _with_seq(
                done(
                    request,
                    render_to_string(
                        f"{TEMPLATE}#postit",
                        _postit_context(workshop, postit, participant),
                        request=request,
                    ),
                ),
                postit,
            )
    with translation.override(workshop.language):
        return render(
            request, f"{TEMPLATE}#edit_form", _postit_context(workshop, postit, participant)
        )


@require_GET
@member_required
def show_postit(request, workshop, participant, postit_pk):
    postit = get_object_or_404(
        PostIt.objects.select_related("stage", "author"), pk=postit_pk, workshop=workshop
    )
    if postit.stage.is_hidden and (participant is None or postit.author_id != participant.pk):
        raise PermissionDenied
    with translation.override(workshop.language):
        return render(request, f"{TEMPLATE}#postit", _postit_context(workshop, postit, participant))


@require_POST
@member_required
@handles_action_errors
def delete_postit(request, workshop, participant, postit_pk):
    postit = _editable_postit(workshop, participant, postit_pk)
    actions.delete_postit(postit, participant=participant, op_id=op_id_from(request))
    return done(request, f'<div id="postit-{postit_pk}" hx-swap-oob="delete"></div>')


@require_GET
@participant_required
def mine(request, workshop, participant, stage_pk):
    """A participant's own post-its on a private stage (what only they may see)."""
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    postits = PostIt.objects.filter(stage=stage, author=participant).select_related(
        "stage", "author"
    )
    with translation.override(workshop.language):
        html = "".join(
            render_to_string(
                f"{TEMPLATE}#postit", _postit_context(workshop, p, participant), request=request
            )
            for p in postits
        )
    return _reply(html, 200, own=[p.pk for p in postits])


# Themes ------------------------------------------------------------------------------


@require_POST
@facilitator_required
@handles_action_errors
def cluster_add(request, workshop, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    actions.add_cluster(stage, name=request.POST.get("name", ""), op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def cluster_rename(request, workshop, cluster_pk):
    cluster = get_object_or_404(Cluster, pk=cluster_pk, stage__workshop=workshop)
    actions.rename_cluster(cluster, name=request.POST.get("name", ""), op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def cluster_delete(request, workshop, cluster_pk):
    cluster = get_object_or_404(Cluster, pk=cluster_pk, stage__workshop=workshop)
    actions.delete_cluster(cluster, op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def cluster_assign(request, workshop, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    cluster = None
    if request.POST.get("cluster"):
        cluster = get_object_or_404(Cluster, pk=form_id(request.POST["cluster"]), stage=stage)
    postit_ids = [form_id(v) for v in request.POST.getlist("postits")][
        : settings.RECIPROQUE.get("MAX_BATCH", 500)
    ]
    actions.assign_cluster(stage, postit_ids, cluster, op_id=op_id_from(request))
    return done(request)


def _with_seq(response, postit):
    """Which event the reply shows: live.js skips a reply its page has gone past."""
    seq = getattr(postit, "event_seq", None)
    if seq is not None:
        response["X-Seq"] = str(seq)
    return response


def _reply(html, status, own=None):
    from django.http import HttpResponse

    response = HttpResponse(html, status=status)
    if own:
        response["X-Own"] = ",".join(str(pk) for pk in own)
    return response
