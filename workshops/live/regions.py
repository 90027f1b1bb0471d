"""Rendering of the live region, shared by full pages, pushes and snapshots."""

from django.template.loader import render_to_string
from django.utils import translation

from ..registry import get_kind


def live_context(workshop, audience, participant=None, stages=None):
    stage = workshop.current_stage
    stages = list(workshop.stages.all()) if stages is None else stages
    workshop.__dict__.setdefault("first_stage_id", stages[0].pk if stages else None)
    context = {
        "workshop": workshop,
        "stage": stage,
        "stages": stages,
        "audience": audience,
        "participant": participant,
        "is_facilitator": audience == "facilitator",
        "is_projector": audience == "projector",
        "own_ids": [],
    }
    if audience == "facilitator":
        # "Write for": the console's compose form lists the people without a phone.
        context["proxies"] = list(workshop.proxies())
    if stage is not None:
        kind = get_kind(stage.kind)
        context["kind"] = kind
        context["step_number"] = next(
            (i for i, s in enumerate(stages, 1) if s.pk == stage.pk), None
        )
        context["board_template"] = f"{kind.template}#board"
        board = kind.context(stage, audience, participant)
        context.update(board)
        if participant is not None and "own_ids" not in board:
            # A kind that marks one's own lines only through `owners` (a pair's holder, a
            # signatory) gives a fresh page the same marks its pushes give.
            context["own_ids"] = kind.owners(stage).get(participant.pk, [])
    return context


def render_live(workshop, audience, participant=None, oob=False, stages=None):
    """The live region's HTML for one audience, and the ids the participant owns."""
    with translation.override(workshop.language):
        context = live_context(workshop, audience, participant, stages)
        context["oob"] = oob
        html = render_to_string("workshops/live.html#live", context)
    return html, context["own_ids"]


def render_part(workshop, template, audience, oob=True, **extra):
    """One named fragment (e.g. the timer) for one audience, as an OOB swap."""
    with translation.override(workshop.language):
        context = {
            "workshop": workshop,
            # Only look the current stage up when the caller did not pass one.
            "stage": extra["stage"] if "stage" in extra else workshop.current_stage,  # noqa: SIM401
            "audience": audience,
            "is_facilitator": audience == "facilitator",
            "is_projector": audience == "projector",
            "oob": oob,
            **extra,
        }
        return render_to_string(template, context)


def render_regions(
    workshop,
    audience,
    participant=None,
    *,
    stages=None,
    controls=True,
    done_count=None,
    is_done=None,
):
    """The live region and what rides with it on an audience's page, as OOB swaps.

    The push after a stage change (`actions._emit_live`) and the snapshot a
    reconnecting page gets draw with this one function, so a page that stayed
    live and one that reconnected show the same thing. On the console: the
    stage list, the controls and the done count when given; on a phone, the
    "I'm done" button when `is_done` is given.
    """
    stages = list(workshop.stages.all()) if stages is None else stages
    html, own = render_live(workshop, audience, participant, oob=True, stages=stages)
    if audience == "facilitator":
        html += render_part(workshop, "workshops/console.html#stage_list", audience, stages=stages)
        if done_count is not None:
            html += render_part(
                workshop, "workshops/console.html#done_count", audience, done_count=done_count
            )
        if controls:
            html += render_part(workshop, "workshops/console.html#controls", audience)
    elif audience == "participant" and is_done is not None:
        html += render_part(
            workshop,
            "workshops/live.html#done_button",
            audience,
            participant=participant,
            is_done=is_done,
        )
    return html, own


def render_snapshot(workshop, audience, participant=None):
    """Everything live on an audience's page, as OOB swaps: what a reconnect redraws."""
    done_count = None
    if audience == "facilitator" and workshop.current_stage_id:
        done_count = workshop.participants.active().filter(done_stage=workshop.current_stage_id)
        done_count = done_count.count()
    return render_regions(
        workshop,
        audience,
        participant,
        done_count=done_count,
        is_done=participant.is_done() if participant is not None else None,
    )
