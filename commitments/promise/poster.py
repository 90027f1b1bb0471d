"""The A3 portrait poster of a promise (WeasyPrint), separate from the report."""

from django.template.loader import render_to_string
from django.utils import translation

from .kinds import poster_context

TEMPLATE = "commitments/promise/poster.html"


def poster_html(stage, promise):
    with translation.override(stage.workshop.language):
        return render_to_string(TEMPLATE, poster_context(stage, promise))


def render_pdf(stage, promise):
    from weasyprint import HTML

    return HTML(string=poster_html(stage, promise)).write_pdf()
