"""The review report: a PDF of its own, so the workshop's report stays as it was.

A cover, a one-page summary (actions done / in progress / dropped, commitments
kept, flows better or worse), then each review stage drawn by its kind's
`report` partial, the same SVG as on screen.
"""

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from workshops.exports.report import facilitator_name

from .kinds import build, review_of, spec_of


def report_context(workshop, stages):
    sections = []
    for number, stage in enumerate(stages, 1):
        built = build(stage, "report", stages=list(workshop.stages.all()))
        context = {"workshop": workshop, "stage": stage, "audience": "report", **built}
        sections.append(
            {
                "number": number,
                "stage": stage,
                "spec": spec_of(stage),
                "summary": built["summary"],
                "body": render_to_string("reviews/review.html#report", context),
            }
        )
    key, label, day = review_of(stages[0])
    public = getattr(settings, "PUBLIC_URL", "") or ""
    original = (
        public.rstrip("/") + reverse("workshops:console", args=[workshop.pk]) if public else ""
    )
    return {
        "workshop": workshop,
        "sections": sections,
        "review_label": label,
        "review_day": day,
        "workshop_day": workshop.date or timezone.localdate(workshop.created_at),
        "facilitator_name": facilitator_name(workshop),
        "participant_count": workshop.participants.active().count(),
        "original_url": original,
        "generated_at": timezone.localtime(),
    }


def report_html(workshop, stages):
    with translation.override(workshop.language):
        return render_to_string("reviews/report.html", report_context(workshop, stages))


def render_pdf(workshop, stages):
    from weasyprint import HTML

    html = report_html(workshop, stages)
    return HTML(string=html, base_url=str(Path(__file__).resolve().parent)).write_pdf()
