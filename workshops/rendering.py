"""Rendering of the live region, shared by full pages, pushes and snapshots."""

from django.template.loader import render_to_string
from django.utils import translation

from .registry import get_kind


def live_context(workshop, audience, participant=None):
    stage = workshop.current_stage
    stages = list(workshop.stages.all())
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
        context.update(kind.context(stage, audience, participant))
    return context


def render_live(workshop, audience, participant=None, oob=False):
    """The live region's HTML for one audience, and the ids the participant owns."""
    with translation.override(workshop.language):
        context = live_context(workshop, audience, participant)
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


def render_snapshot(workshop, audience, participant=None):
    """Everything live on an audience's page, as OOB swaps: what a reconnect redraws."""
    html, own = render_live(workshop, audience, participant, oob=True)
    if audience == "facilitator":
        html += render_part(
            workshop,
            "workshops/console.html#stage_list",
            audience,
            stages=list(workshop.stages.all()),
        )
        html += render_part(workshop, "workshops/console.html#controls", audience)
    elif audience == "participant" and participant is not None:
        html += render_part(
            workshop,
            "workshops/live.html#done_button",
            audience,
            participant=participant,
            is_done=participant.is_done(),
        )
    return html, own
