"""A review's date as an iCalendar file (RFC 5545), for the facilitator and each signatory.

A timed event in the deployment's time zone (settings.TIME_ZONE, Europe/Paris by
default), written in UTC so that any calendar places it right; the zone is named
in X-WR-TIMEZONE. Escaping and folding are the action sheets' (commitments/sheets/ics.py).
"""

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from commitments.sheets.ics import escape, fold

DEFAULT_TIME = datetime.time(9, 30)
DURATION = datetime.timedelta(hours=2)


def _utc(moment):
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def review_calendar(workshop, review_key, label, day, lines=(), at=DEFAULT_TIME, host="reciproque"):
    """One event: the review `label` of `workshop` on `day` at `at`, local time."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, at, tzinfo=zone)
    description = "\n".join([_("Workshop: %s") % workshop.title, *lines])
    body = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Reciproque//Reviews//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(workshop.title)}",
        f"X-WR-TIMEZONE:{settings.TIME_ZONE}",
        "BEGIN:VEVENT",
        f"UID:{review_key}-w{workshop.pk}@{host}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(start + DURATION)}",
        f"SUMMARY:{escape(f'{label} · {workshop.title}')}",
        f"DESCRIPTION:{escape(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in body)
