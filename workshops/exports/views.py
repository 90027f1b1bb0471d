"""The facilitator's report and exports: PDF (in the background), JSON, CSV, and import.

Kept apart from views.py because the live room's views do not need any of it.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..access import facilitator_required
from . import report, transfer

TEMPLATE = "workshops/exports.html"
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _filename(workshop, suffix):
    return f"{slugify(workshop.title)[:60] or 'atelier'}-{suffix}"


def _status(request, workshop, status):
    with translation.override(workshop.language):
        return render(
            request, f"{TEMPLATE}#report_status", {"workshop": workshop, "status": status}
        )


@require_POST
@facilitator_required
def report_start(request, workshop):
    status = report.start_report(workshop)
    if request.htmx:
        return _status(request, workshop, status)
    return redirect("workshops:console", workshop.pk)


@require_GET
@never_cache
@facilitator_required
def report_status(request, workshop):
    return _status(request, workshop, report.read_status(workshop.pk))


@require_GET
@facilitator_required
def report_download(request, workshop):
    path = report.ready_file(workshop.pk)
    if path is None:
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=_filename(workshop, "rapport.pdf" if workshop.language == "fr" else "report.pdf"),
        content_type="application/pdf",
    )


@require_GET
@facilitator_required
def export_json(request, workshop):
    document = transfer.export_workshop(workshop)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(workshop, "export.json")}"'
    return response


@require_GET
@facilitator_required
def export_csv(request, workshop):
    with translation.override(workshop.language):
        text = transfer.export_csv(workshop)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(workshop, "export.csv")}"'
    return response


@require_POST
@login_required
def import_json(request):
    """A new workshop, owned by this facilitator, from an exported JSON file."""
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise transfer.ImportRefused(_("Choose an exported JSON file."))
        if upload.size > MAX_IMPORT_BYTES:
            raise transfer.ImportRefused(_("This file is too large."))
        try:
            document = json.loads(upload.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise transfer.ImportRefused(
                _("This file is not a Réciproque workshop export.")
            ) from None
        workshop = transfer.import_workshop(document, request.user)
    except transfer.ImportRefused as error:
        messages.error(request, str(error))
        back = request.POST.get("back", "")
        safe = url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
        return redirect(back if back and safe else "workshops:dashboard")
    messages.success(request, _("Workshop imported."))
    return redirect("workshops:console", workshop.pk)
