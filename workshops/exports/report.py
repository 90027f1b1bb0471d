"""The PDF report: a cover, then one section per stage, drawn by the app that owns its kind.

`report_html()` builds the document; `write_pdf()` prints it with WeasyPrint.
`start_report()` does that in a background thread, so the live room never
waits: Django runs sync views one at a time on one thread under ASGI, and a
report can take seconds. The job's state lives in a small JSON file beside
the PDF (under RECIPROQUE_VAR_DIR/exports/<workshop>/), so any process can
answer the console's polling.
"""

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path

from django.db import connections
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from .. import methods
from ..models import Profile, Workshop
from ..registry import get_kind
from .storage import workshop_exports

logger = logging.getLogger("reciproque.report")

STATUS_FILE = "report.json"
# A job that has said nothing for this long died with its process; it may be started again.
STALE_SECONDS = 600
_lock = threading.Lock()


# The document ------------------------------------------------------------------------------


def report_context(workshop):
    # A review's stages have their own report: the workshop's stays as it was.
    stages = [s for s in workshop.stages.all() if get_kind(s.kind).in_workshop_report]
    sections = []
    for number, stage in enumerate(stages, 1):
        kind = get_kind(stage.kind)
        body = ""
        if kind.report_template:
            context = {
                "workshop": workshop,
                "stage": stage,
                "audience": "report",
                "is_report": True,
                **kind.report_context(stage),
            }
            body = render_to_string(f"{kind.report_template}#report", context)
        sections.append({"number": number, "stage": stage, "kind": kind, "body": body})
    # Each kind's CSS once, in the order its first section comes.
    kind_css = list(dict.fromkeys(s["kind"].report_css for s in sections if s["kind"].report_css))
    return {
        "workshop": workshop,
        "sections": sections,
        "kind_css": kind_css,
        "stage_count": len(stages),
        "participant_groups": participant_groups(workshop),
        "participant_count": workshop.participants.active().count(),
        "facilitator_name": facilitator_name(workshop),
        "method_title": _method_title(workshop),
        "day": workshop.date or timezone.localdate(workshop.created_at),
        "generated_at": timezone.localtime(),
    }


def report_html(workshop):
    """The report as one HTML document, in the workshop's language."""
    with translation.override(workshop.language):
        return render_to_string("workshops/report.html", report_context(workshop))


def write_pdf(workshop, path):
    from weasyprint import HTML

    html = report_html(workshop)
    HTML(string=html, base_url=str(Path(__file__).resolve().parent)).write_pdf(str(path))
    return path


def participant_groups(workshop):
    """Participants by profile, in the profiles' order; removed people are left out."""
    groups = OrderedDict((value, []) for value, _label in Profile.choices)
    for participant in workshop.participants.active().order_by("display_name", "pk"):
        groups.setdefault(participant.profile, []).append(participant)
    labels = dict(Profile.choices)
    return [
        {"profile": profile, "label": labels.get(profile, profile), "people": people}
        for profile, people in groups.items()
        if people
    ]


def facilitator_name(workshop):
    user = workshop.facilitator
    return user.get_full_name() or user.get_username()


def _method_title(workshop):
    method = methods.get_method(workshop.method) if workshop.method else None
    return methods.method_title(method, workshop.language) if method else ""


# The background job ---------------------------------------------------------------------------


def status_path(workshop_pk):
    return workshop_exports(workshop_pk) / STATUS_FILE


def read_status(workshop_pk):
    """{"state": "idle" | "running" | "ready" | "failed", ...} for the console."""
    try:
        status = json.loads(status_path(workshop_pk).read_text("utf-8"))
    except (OSError, ValueError):
        return {"state": "idle"}
    if status.get("state") == "running":
        started = parse_datetime(status.get("started_at") or "")
        if started is None or (timezone.now() - started).total_seconds() > STALE_SECONDS:
            return {"state": "failed"}
    if status.get("state") == "ready" and not ready_file(workshop_pk, status):
        return {"state": "idle"}
    return status


def ready_file(workshop_pk, status=None):
    status = status or read_status(workshop_pk)
    name = status.get("file") or ""
    if status.get("state") != "ready" or "/" in name or not name.endswith(".pdf"):
        return None
    path = workshop_exports(workshop_pk) / name
    return path if path.is_file() else None


def _write_status(workshop_pk, status):
    path = status_path(workshop_pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(status), "utf-8")
    partial.replace(path)  # atomic: a poll never reads half a file


def start_report(workshop):
    """Start generating the PDF unless it is already being generated; return the status."""
    with _lock:
        status = read_status(workshop.pk)
        if status.get("state") == "running":
            return status
        job = uuid.uuid4().hex[:12]
        status = {"state": "running", "job": job, "started_at": timezone.now().isoformat()}
        _write_status(workshop.pk, status)
    spawn(build_in_background, workshop.pk, job)
    return status


def spawn(target, *args):
    def run():
        try:
            target(*args)
        finally:
            # This thread's own database connection.
            connections.close_all()

    threading.Thread(target=run, daemon=True, name="reciproque-report").start()


def build_in_background(workshop_pk, job):
    started = time.monotonic()
    folder = workshop_exports(workshop_pk)
    try:
        workshop = Workshop.objects.select_related("facilitator").get(pk=workshop_pk)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"report-{job}.part"
        write_pdf(workshop, partial)
        final = folder / f"report-{job}.pdf"
        partial.replace(final)
        for old in folder.glob("report-*.pdf"):
            if old != final:
                old.unlink(missing_ok=True)
        _write_status(
            workshop_pk,
            {
                "state": "ready",
                "job": job,
                "file": final.name,
                "seconds": round(time.monotonic() - started, 2),
                "finished_at": timezone.now().isoformat(),
            },
        )
    except Workshop.DoesNotExist:
        pass  # deleted meanwhile: its folder goes with it
    except Exception:
        logger.exception("report of workshop %s failed", workshop_pk)
        _write_status(workshop_pk, {"state": "failed", "job": job})
