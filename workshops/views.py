import io
import json

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from . import actions, methods, ratelimit
from .access import (
    current_participant,
    facilitator_required,
    participant_required,
    remember_participant,
)
from .forms import FacilitatorCreationForm, JoinCodeForm, JoinForm, StageForm, WorkshopForm
from .http import done, error_response, handles_action_errors, op_id_from
from .live import presence
from .live.regions import live_context
from .live.write import ActionError, form_id, malformed
from .models import MAX_TIMER_MINUTES, Participant, Profile, Stage, Workshop
from .network import public_base_url
from .registry import get_kind


def _posted(request):
    """The data a form is bound to on a POST, even an empty one; None (unbound) otherwise.

    Not `request.POST or None`: an empty or non-form body (JSON, say) would leave
    the form unbound, and the page would come back with no word of what was wrong.
    """
    return request.POST if request.method == "POST" else None


# Home, first run and accounts --------------------------------------------------------


def home(request):
    if not get_user_model().objects.exists():
        return redirect("setup")
    if request.user.is_authenticated:
        return redirect("workshops:dashboard")
    return render(request, "workshops/home.html", {"form": JoinCodeForm()})


@require_http_methods(["GET", "POST"])
def setup(request):
    """The first visit creates the first facilitator; then this page closes."""
    if get_user_model().objects.exists():
        return redirect("login")
    return _facilitator_signup(request, first=True)


@require_http_methods(["GET", "POST"])
def signup(request):
    if not settings.ALLOW_SIGNUP:
        raise Http404
    return _facilitator_signup(request, first=False)


def _facilitator_signup(request, first):
    form = FacilitatorCreationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("workshops:dashboard")
    return render(request, "workshops/setup.html", {"form": form, "first": first})


def csrf_failure(request, reason=""):
    """A form refused for its CSRF token: the site's own 403 page, not Django's English one.

    Rendered with the request (Django's own view renders without it), so the page
    has its layout and a fresh token: going back and sending again works.
    """
    return render(request, "403_csrf.html", status=403)


# Facilitator: workshops -------------------------------------------------------------


@login_required
def dashboard(request):
    workshops = request.user.workshops.all()
    return render(
        request,
        "workshops/dashboard.html",
        {"workshops": workshops, "methods": _methods_for_display()},
    )


def _methods_for_display():
    language = translation.get_language() or "fr"
    return [
        {
            "key": m["key"],
            "title": methods.method_title(m, language),
            "summary": methods.method_summary(m, language),
            "participants": m.get("participants", ""),
            "stage_count": len(m["stages"]),
            "minutes": sum(s["duration_minutes"] for s in m["stages"]),
        }
        for m in methods.all_methods()
    ]


@login_required
@require_http_methods(["GET", "POST"])
def workshop_new(request):
    method_key = request.GET.get("method") or request.POST.get("method") or ""
    method = methods.get_method(method_key) if method_key else None
    if method_key and method is None:
        raise Http404
    initial = {"language": translation.get_language() or "fr"}
    if method:
        initial["title"] = methods.method_title(method)
    form = WorkshopForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        workshop = actions.create_workshop(
            facilitator=request.user, method_key=method_key or None, **form.cleaned_data
        )
        return redirect("workshops:console", workshop.pk)
    return render(
        request,
        "workshops/workshop_form.html",
        {
            "form": form,
            "method": method,
            "method_key": method_key,
            "methods": _methods_for_display(),
        },
    )


@facilitator_required
@require_http_methods(["GET", "POST"])
def workshop_edit(request, workshop):
    form = WorkshopForm(_posted(request), instance=Workshop.objects.get(pk=workshop.pk))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_workshop(workshop, op_id=op_id_from(request), **form.cleaned_data)
        except ActionError as error:
            return error_response(request, error.message, error.status)
        return redirect("workshops:console", workshop.pk)
    return render(request, "workshops/workshop_form.html", {"form": form, "workshop": workshop})


@require_POST
@facilitator_required
def workshop_delete(request, workshop):
    title = workshop.title
    actions.delete_workshop(workshop)
    messages.success(
        request, _("Workshop “%(title)s” deleted, with everything in it.") % {"title": title}
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("workshops:dashboard"))
    return redirect("workshops:dashboard")


@facilitator_required
@never_cache
def console(request, workshop):
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    with translation.override(workshop.language):
        context = live_context(workshop, "facilitator")
        context.update(_console_context(request, workshop))
        return render(request, "workshops/console.html", context)


def _console_context(request, workshop):
    stage = workshop.current_stage
    return {
        "seq": workshop.seq,
        "ws_url": _ws_url(workshop) + "?role=facilitator",
        "join_url": _join_url(request, workshop),
        "done_count": _done_count(workshop),
        "presence": _presence(workshop),
        "reclaims": pending_reclaims(workshop),
        "profiles": Profile.choices,
        "stage_form": StageForm(),
        "timer_minutes": stage.duration_minutes if stage else 10,
    }


def _ws_url(workshop):
    return f"/ws/w/{workshop.pk}/"


def _join_url(request, workshop):
    return public_base_url(request) + reverse("join", args=[workshop.join_token])


def _done_count(workshop):
    return (
        workshop.participants.active().filter(done_stage=workshop.current_stage_id).count()
        if workshop.current_stage_id
        else 0
    )


def _presence(workshop):
    online = presence.online_participant_ids(workshop)
    participants = list(workshop.participants.active())
    for participant in participants:
        participant.online = participant.pk in online
        participant.done = (
            participant.done_stage_id is not None
            and participant.done_stage_id == workshop.current_stage_id
        )
    return {
        "participants": participants,
        "online_count": sum(p.online for p in participants),
        "done_count": sum(p.done for p in participants),
        "projectors": presence.projector_count(workshop),
    }


@facilitator_required
@require_GET
def presence_panel(request, workshop):
    return _render_presence(request, workshop)


def _render_presence(request, workshop):
    with translation.override(workshop.language):
        return render(
            request,
            "workshops/console.html#presence",
            {"workshop": workshop, "presence": _presence(workshop)},
        )


@facilitator_required
@never_cache
def projector(request, workshop):
    workshop = Workshop.objects.select_related("current_stage").get(pk=workshop.pk)
    with translation.override(workshop.language):
        context = live_context(workshop, "projector")
        context.update(
            seq=workshop.seq,
            ws_url=_ws_url(workshop) + "?role=projector",
            join_url=_join_url(request, workshop),
            # Where to type the code: short, and still right after the link is renewed.
            join_code_url=public_base_url(request) + reverse("join_code"),
        )
        return render(request, "workshops/projector.html", context)


@facilitator_required
@require_GET
def qr_svg(request, workshop):
    qr = segno.make(_join_url(request, workshop), error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=8, dark="#111", light="#fff", border=2)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


# Facilitator: running the room ----------------------------------------------------------


def _flag(request, name):
    """A "1" or "0" field; anything else (or nothing) is a malformed request, not a "no"."""
    value = request.POST.get(name)
    if value not in ("0", "1"):
        raise ActionError(malformed())
    return value == "1"


@require_POST
@facilitator_required
@handles_action_errors
def stage_go(request, workshop, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    actions.go_to_stage(workshop, stage, op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def stage_back(request, workshop):
    """Undo "Move everyone here": back to the stage the last move came from."""
    previous = _id_field(request, "stage")
    stage = get_object_or_404(Stage, pk=previous, workshop=workshop)
    actions.go_to_stage(workshop, stage, op_id=op_id_from(request), undo=True)
    return done(request)


def _id_field(request, name):
    return form_id(request.POST.get(name, ""))


@require_POST
@facilitator_required
@handles_action_errors
def stage_reveal(request, workshop, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    actions.reveal_stage(stage, _flag(request, "revealed"), op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def timer(request, workshop):
    command = request.POST.get("command", "")
    minutes = None
    if request.POST.get("minutes"):
        try:
            minutes = float(request.POST["minutes"].replace(",", "."))
        except ValueError:
            raise ActionError(
                _("Choose a duration between 1 and %d minutes.") % MAX_TIMER_MINUTES
            ) from None
    if command == "locks":
        actions.set_timer_locks_writing(
            workshop, _flag(request, "value"), op_id=op_id_from(request)
        )
    else:
        actions.control_timer(workshop, command, minutes=minutes, op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def lock(request, workshop):
    actions.set_writing_locked(workshop, _flag(request, "locked"), op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def projector_state(request, workshop):
    actions.set_projector(
        workshop,
        instructions=request.POST.get("instructions") or None,
        qr=request.POST.get("qr") or None,
        op_id=op_id_from(request),
    )
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def renew_link(request, workshop):
    actions.renew_join_link(workshop, base_url=public_base_url(request), op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def remove_participant(request, workshop, participant_pk):
    participant = get_object_or_404(Participant, pk=participant_pk, workshop=workshop)
    actions.remove_participant(workshop, participant, op_id=op_id_from(request))
    if request.htmx:
        return _render_presence(request, workshop)
    return done(request)


@require_POST
@facilitator_required
def add_participant(request, workshop):
    """Someone without a phone, added from the console; the facilitator writes for them."""
    form = JoinForm(request.POST)
    if not form.is_valid():
        message = " ".join(
            f"{form.fields[name].label} : {error}"
            if translation.get_language() == "fr"
            else f"{form.fields[name].label}: {error}"
            for name, errors in form.errors.items()
            for error in errors
        )
        return error_response(request, message)
    try:
        actions.add_participant(workshop, **form.cleaned_data, op_id=op_id_from(request))
    except ActionError as error:
        return error_response(request, error.message, error.status)
    if request.htmx:
        return _render_presence(request, workshop)
    return done(request)


# Facilitator: editing stages ---------------------------------------------------------------


@facilitator_required
@require_http_methods(["GET", "POST"])
def stage_add(request, workshop):
    if request.method == "POST" and "variant" in request.POST:
        return handles_action_errors(_add_variant)(request, workshop)
    form = StageForm(_posted(request), workshop=workshop)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_stage(
                workshop,
                kind=data["kind"],
                title=data["title"],
                instructions=data["instructions"],
                duration_minutes=data["duration_minutes"],
                private_writing=data["private_writing"],
                anonymous=data["anonymous"],
                config=form.config(get_kind(data["kind"]).default_config()),
                other_configs=form.other_configs(),
                op_id=op_id_from(request),
            )
        except ActionError as error:
            messages.error(request, error.message)
        return redirect("workshops:console", workshop.pk)
    with translation.override(workshop.language):
        return render(request, "workshops/stage_form.html", {"form": form, "workshop": workshop})


def _add_variant(request, workshop):
    """One of the optional stages the workshop's method offers (seed 000's "poster de
    promesse de service"), as the method writes it; offered once, while it is missing."""
    key = request.POST.get("variant")
    present = {s.kind for s in workshop.stages.all()}
    variant = next(
        (
            v
            for v in methods.variants_for(workshop.method, workshop.language, present)
            if v["key"] == key
        ),
        None,
    )
    if variant is None:
        with translation.override(workshop.language):
            raise ActionError(_("This workshop’s method offers no such variant."), status=400)
    actions.add_stage(workshop, **variant["stage"], op_id=op_id_from(request))
    return done(request)


@facilitator_required
@require_http_methods(["GET", "POST"])
def stage_edit(request, workshop, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    form = StageForm(_posted(request), instance=Stage.objects.get(pk=stage.pk))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        base = (
            stage.config if data["kind"] == stage.kind else get_kind(data["kind"]).default_config()
        )
        try:
            actions.update_stage(
                stage,
                kind=data["kind"],
                title=data["title"],
                instructions=data["instructions"],
                duration_minutes=data["duration_minutes"],
                private_writing=data["private_writing"],
                anonymous=data["anonymous"],
                config=form.config(base),
                other_configs=form.other_configs(),
                op_id=op_id_from(request),
            )
        except ActionError as error:
            messages.error(request, error.message)
        return redirect("workshops:console", workshop.pk)
    with translation.override(workshop.language):
        return render(
            request,
            "workshops/stage_form.html",
            {"form": form, "workshop": workshop, "stage": stage},
        )


@require_POST
@facilitator_required
@handles_action_errors
def stage_delete(request, workshop, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    actions.delete_stage(stage, op_id=op_id_from(request))
    return done(request)


@require_POST
@facilitator_required
@handles_action_errors
def stage_move(request, workshop, stage_pk):
    stage = get_object_or_404(Stage, pk=stage_pk, workshop=workshop)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction"))
    if offset is None:
        raise ActionError(malformed())
    actions.move_stage(stage, offset, op_id=op_id_from(request))
    return done(request)


# Participants: joining ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def join_code(request):
    """Type the short code; guessing is throttled per address."""
    form = JoinCodeForm(_posted(request))
    status = 200
    if request.method == "POST":
        limits = settings.RECIPROQUE
        window = limits["JOIN_CODE_WINDOW_SECONDS"]
        address = ratelimit.client_address(request)
        # Even the right code is refused from an address that guessed too much,
        # until its window ends: otherwise the limit would only slow guessing down.
        failures = ratelimit.count("join-code", address, window, anchored=True)
        if failures >= limits["JOIN_CODE_ATTEMPTS"]:
            form.add_error(
                None, _("Too many wrong codes. Wait a few minutes, or scan the QR code.")
            )
            response = render(request, "workshops/join_code.html", {"form": form}, status=429)
            wait = ratelimit.wait_left("join-code", address, window, anchored=True)
            response["Retry-After"] = str(wait)
            return response
        if form.is_valid():
            workshop = Workshop.objects.filter(short_code=form.cleaned_data["code"]).first()
            if workshop is not None:
                return redirect("join", workshop.join_token)
            ratelimit.add("join-code", address, window, anchored=True)
            form.add_error("code", _("No workshop has this code. Check it with the facilitator."))
            status = 404
        else:
            status = 400
    return render(request, "workshops/join_code.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def join(request, token):
    workshop = Workshop.objects.filter(join_token=token).first()
    if workshop is None:
        return render(request, "workshops/join_invalid.html", {"form": JoinCodeForm()}, status=404)
    if current_participant(request, workshop) is not None:
        return redirect("workshops:live", workshop.pk)
    with translation.override(workshop.language):
        form = JoinForm(_posted(request))
        if request.method == "POST" and form.is_valid():
            participant = actions.join(workshop, **form.cleaned_data)
            remember_participant(request, participant)
            return redirect("workshops:live", workshop.pk)
        return render(
            request,
            "workshops/join.html",
            {
                "form": form,
                "workshop": workshop,
                "profiles": Profile.choices,
                "reclaimable": list(actions.reclaimable(workshop).order_by("display_name")),
            },
            status=400 if request.method == "POST" else 200,
        )


RECLAIMS_KEY = "reciproque_reclaims"


def _reclaim_of(request, workshop):
    token = (request.session.get(RECLAIMS_KEY) or {}).get(str(workshop.pk))
    if not isinstance(token, str):
        return None
    return workshop.reclaims.filter(token=token).select_related("participant").first()


@require_POST
def reclaim(request, token):
    """ "I took part already": the phone asks to be that participant again."""
    workshop = Workshop.objects.filter(join_token=token).first()
    if workshop is None:
        return render(request, "workshops/join_invalid.html", {"form": JoinCodeForm()}, status=404)
    if current_participant(request, workshop) is not None:
        return redirect("workshops:live", workshop.pk)
    with translation.override(workshop.language):
        limits = settings.RECIPROQUE
        window = limits["JOIN_CODE_WINDOW_SECONDS"]
        address = ratelimit.client_address(request)
        if ratelimit.add("reclaim", address, window) > limits["JOIN_CODE_ATTEMPTS"]:
            return ratelimit.too_many(request, ratelimit.wait_left("reclaim", address, window))
        try:
            who = form_id(request.POST.get("participant"))
            asked = actions.ask_reclaim(workshop, participant_id=who)
        except ActionError as error:
            if request.htmx:
                return error_response(request, error.message, error.status)
            messages.error(request, error.message)
            return redirect("join", workshop.join_token)
        known = dict(request.session.get(RECLAIMS_KEY) or {})
        known[str(workshop.pk)] = asked.token
        request.session[RECLAIMS_KEY] = known
        return redirect("reclaim_wait", workshop.join_token)


@never_cache
@require_GET
def reclaim_wait(request, token):
    """Waiting for the facilitator; once they accept, this phone is that participant."""
    workshop = Workshop.objects.filter(join_token=token).first()
    if workshop is None:
        return render(request, "workshops/join_invalid.html", {"form": JoinCodeForm()}, status=404)
    asked = _reclaim_of(request, workshop)
    if asked is None:
        return redirect("join", token)
    if asked.accepted:
        remember_participant(request, asked.participant)
        known = dict(request.session.get(RECLAIMS_KEY) or {})
        known.pop(str(workshop.pk), None)
        request.session[RECLAIMS_KEY] = known
        target = reverse("workshops:live", args=[workshop.pk])
        return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    with translation.override(workshop.language):
        template = "workshops/reclaim_wait.html"
        return render(
            request,
            f"{template}#wait" if request.htmx else template,
            {"workshop": workshop, "reclaim": asked},
        )


def pending_reclaims(workshop):
    return list(workshop.reclaims.filter(decided_at__isnull=True).select_related("participant"))


def _render_reclaims(request, workshop):
    with translation.override(workshop.language):
        return render(
            request,
            "workshops/console.html#reclaim_asks",
            {"workshop": workshop, "reclaims": pending_reclaims(workshop)},
        )


@facilitator_required
@require_GET
@never_cache
def reclaim_asks(request, workshop):
    return _render_reclaims(request, workshop)


@require_POST
@facilitator_required
@handles_action_errors
def reclaim_decide(request, workshop, reclaim_pk):
    if request.POST.get("accept") not in ("0", "1"):
        raise ActionError(malformed())
    actions.decide_reclaim(
        workshop, reclaim_pk, accept=request.POST.get("accept") == "1", op_id=op_id_from(request)
    )
    return _render_reclaims(request, workshop)


# Participants: the live page -------------------------------------------------------------


@never_cache
def live(request, pk):
    workshop = get_object_or_404(Workshop.objects.select_related("current_stage"), pk=pk)
    participant = current_participant(request, workshop)
    if participant is None:
        with translation.override(workshop.language):
            return render(
                request, "workshops/not_participant.html", {"form": JoinCodeForm()}, status=403
            )
    with translation.override(workshop.language):
        context = live_context(workshop, "participant", participant)
        context.update(
            seq=workshop.seq,
            ws_url=_ws_url(workshop),
            own_json=json.dumps(context["own_ids"]),
            is_done=participant.is_done(),
        )
        return render(request, "workshops/participant.html", context)


@require_POST
@participant_required
@handles_action_errors
def done_toggle(request, workshop, participant):
    actions.set_done(participant, _flag(request, "done"), op_id=op_id_from(request))
    participant.refresh_from_db()
    with translation.override(workshop.language):
        return (
            render(
                request,
                "workshops/live.html#done_button",
                {
                    "workshop": workshop,
                    "participant": participant,
                    "is_done": participant.is_done(),
                },
            )
            if request.htmx
            else done(request)
        )


# Promotion: an item of one stage becomes an object of another (a red post-it, a
# tension). Facilitator only: it is the facilitator who steers the room from one
# stage's material to the next; the server says so whatever a page shows.


@require_POST
@facilitator_required
@handles_action_errors
def promote_item(request, workshop):
    from . import registry, trace

    value = request.POST.get("ref", "")
    if len(value) > 120:
        raise ActionError(malformed())
    target = _id_field(request, "stage")
    op_id = op_id_from(request)
    obj = trace.resolve(value, workshop.pk)
    item = registry.item_of(obj) if obj is not None else None
    if item is None:
        raise ActionError(_("This item no longer exists."), status=404)
    stage = get_object_or_404(Stage, pk=target, workshop=workshop)
    if not registry.accepts(stage, item.type, item.mark):
        raise ActionError(_("This stage does not take this item."))
    get_kind(stage.kind).promote(stage, item, None, op_id)
    return done(request)
