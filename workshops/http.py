"""What write views share: operation ids, error replies, where to go back to."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string

from .live.write import ActionError, malformed, valid_op_id


def op_id_from(request):
    """The client's operation id (a retried write carries the same one)."""
    op_id = request.POST.get("op_id") or request.headers.get("X-Op-Id") or None
    # Two ids in one request: which one a retry would carry is anyone's guess.
    if not valid_op_id(op_id) or len(request.POST.getlist("op_id")) > 1:
        raise ActionError(malformed())
    if not _readable(request):
        raise ActionError(malformed())
    return op_id


def _readable(request):
    """False for a form body that is not UTF-8 (Django would save "\ufffd" in its place)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return True  # multipart fields are decoded one by one; nothing more to check here
    from urllib.parse import parse_qsl

    try:  # raw bytes, and percent-escaped ones ("%FF")
        parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def error_response(request, message, status=400):
    """A refusal the user reads: a toast for htmx, a message and a redirect otherwise."""
    if request.htmx:
        html = render_to_string("workshops/toast.html", {"message": message}, request=request)
        return HttpResponse(html, status=status)
    messages.error(request, message)
    return redirect(back_url(request))


def back_url(request):
    from django.urls import reverse

    match = request.resolver_match
    pk = match.kwargs.get("pk") if match else None
    if pk is None:
        return reverse("home")
    if request.user.is_authenticated:
        return reverse("workshops:console", args=[pk])
    return reverse("workshops:live", args=[pk])


def done(request, html=""):
    """Success: the fragment for htmx, a redirect back otherwise."""
    if request.htmx:
        return HttpResponse(html)
    return redirect(back_url(request))


def handles_action_errors(view):
    """Turn an ActionError into a clear reply; nothing was changed."""
    from functools import wraps

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ActionError as error:
            return error_response(request, error.message, error.status)

    return wrapper
