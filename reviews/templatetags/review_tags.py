"""The console's review tool: the reviews opened, and what a new one defaults to (no query)."""

import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from ..kinds import SPECS, review_of

register = template.Library()


@register.simple_tag
def review_list(stages):
    """The workshop's reviews, in the order they were opened: key, label, date."""
    found = {}
    for stage in stages:
        if stage.kind in SPECS:
            key, label, day = review_of(stage)
            found.setdefault(key, {"key": key, "label": label or stage.title, "date": day})
    return [r for r in found.values() if r["key"]]


@register.simple_tag
def review_defaults(workshop, stages=None):
    """A first review at 30 days, the next at six months after the workshop (seed 001's
    30-day test roadmap; seed 002's review six months later)."""
    day = workshop.date or timezone.localdate(workshop.created_at)
    opened = len(review_list(stages or [])) if stages is not None else 0
    thirty, six = _("30-day review"), _("Six-month review")
    if opened == 0:
        label, date = thirty, day + datetime.timedelta(days=30)
    else:
        label, date = six, day + datetime.timedelta(days=182)
    return {"label": label, "date": date, "labels": [thirty, six]}
