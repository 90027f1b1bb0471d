"""The sheets' dates as an iCalendar file (RFC 5545), written by hand: no dependency.

Each sheet gives two all-day events: the start of its test and its review
(the due date). Lines end in CRLF, are folded at 75 octets, and text escapes
backslash, semicolon, comma and line breaks.
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

MAX_OCTETS = 75


def escape(text):
    text = str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line):
    """One content line, folded so that no line is longer than 75 octets (never inside a
    UTF-8 sequence); a continuation line starts with a space."""
    out, current, size = [], "", 0
    limit = MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, MAX_OCTETS
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _day(value):
    return value.strftime("%Y%m%d")


def events_of(sheet, workshop):
    """(uid, day, summary, description) for the sheet's test start and its review."""
    labelled = (
        (_("What: %s"), sheet.test_what),
        (_("Who: %s"), sheet.test_who),
        (_("Indicators: %s"), sheet.test_indicators),
        (_("Feedback: %s"), sheet.test_feedback),
        (_("Workshop: %s"), workshop.title),
    )
    description = "\n".join([sheet.title, *(label % value for label, value in labelled if value)])
    found = []
    if sheet.start_date:
        found.append(
            (f"sheet-{sheet.pk}-test", sheet.start_date, _("Test: %s") % sheet.title, description)
        )
    if sheet.due_date:
        found.append(
            (
                f"sheet-{sheet.pk}-review",
                sheet.due_date,
                _("Review: %s") % sheet.title,
                description,
            )
        )
    return found


def calendar(workshop, sheets, host="reciproque"):
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Reciproque//Action sheets//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(workshop.title)}",
    ]
    for sheet in sheets:
        for uid, day, summary, description in events_of(sheet, workshop):
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid}-w{workshop.pk}@{host}",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{_day(day)}",
                f"DTEND;VALUE=DATE:{_day(day + datetime.timedelta(days=1))}",
                f"SUMMARY:{escape(summary)}",
                f"DESCRIPTION:{escape(description)}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
