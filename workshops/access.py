"""Who may do what: one helper per object, raising 404 or 403."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext as _

from . import ratelimit
from .live.write import ActionError, fetch_one, form_id
from .models import Participant, Workshop

SESSION_KEY = "reciproque_participants"
# The console's "write for" choice: the participant a facilitator's write is by.
ACT_AS_FIELD = "as_participant"


def participant_id_in_session(session, workshop_id):
    value = (session.get(SESSION_KEY) or {}).get(str(workshop_id))
    return value if isinstance(value, int) else None


def remember_participant(request, participant):
    known = dict(request.session.get(SESSION_KEY) or {})
    known[str(participant.workshop_id)] = participant.pk
    request.session[SESSION_KEY] = known


def _active_participant(request, workshop_id):
    participant_id = participant_id_in_session(request.session, workshop_id)
    if participant_id is None:
        return None
    return fetch_one(
        Participant,
        "id = %s AND workshop_id = %s AND removed_at IS NULL",
        [participant_id, workshop_id],
    )


def current_participant(request, workshop):
    """The active participant this browser is in `workshop`, or None."""
    participant = _active_participant(request, workshop.pk)
    if participant is not None:
        participant.workshop = workshop
    return participant


def workshop_and_participant(request, pk):
    """The workshop `pk` and this browser's active participant in it (or None).

    Every write from a phone starts here: two light queries (`fetch_one`).
    """
    participant = _active_participant(request, pk)
    if participant is not None:
        participant.workshop = fetch_one(Workshop, "id = %s", [pk])
        return participant.workshop, participant
    return get_object_or_404(Workshop, pk=pk), None


def get_workshop_for_facilitator(request, pk):
    # Another facilitator's workshop is a 404: its existence is not shown.
    return get_object_or_404(Workshop, pk=pk, facilitator=request.user)


def facilitator_required(view):
    """Loads `workshop` for its facilitator; anyone else gets 404 (or login)."""

    @login_required
    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        workshop = get_workshop_for_facilitator(request, pk)
        # Refusals (ActionError) are worded in the workshop's language, as its pages are.
        with translation.override(workshop.language):
            return view(request, workshop, *args, **kwargs)

    return wrapper


def participant_required(view):
    """Loads `workshop` and `participant`; a stranger is refused."""

    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        workshop, participant = workshop_and_participant(request, pk)
        if participant is None:
            raise PermissionDenied
        with translation.override(workshop.language):
            if throttled := _participant_throttled(request, participant):
                return throttled
            return view(request, workshop, participant, *args, **kwargs)

    return wrapper


def _participant_throttled(request, participant):
    """A 429 when this participant's writes are over the limit (see ratelimit.py)."""
    if not (participant is not None and ratelimit.is_write(request)):
        return None
    if retry_after := ratelimit.participant_over_limit(participant):
        return ratelimit.too_many(request, retry_after)
    return None


def member_required(view):
    """The facilitator (participant=None) or a participant of the workshop."""

    @wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        workshop, participant = workshop_and_participant(request, pk)
        if request.user.is_authenticated and request.user.pk == workshop.facilitator_id:
            with translation.override(workshop.language):
                return view(request, workshop, None, *args, **kwargs)
        if participant is None:
            raise PermissionDenied
        with translation.override(workshop.language):
            if throttled := _participant_throttled(request, participant):
                return throttled
            return view(request, workshop, participant, *args, **kwargs)

    return wrapper


def acting_participant(request, workshop, participant):
    """Who a write is by: the one place that resolves it.

    A phone writes as its own participant. The facilitator (participant=None)
    writes as themself, or, with `as_participant`, for someone they added from
    the console (`added_by_facilitator`): what is written is theirs, marked as
    entered by the facilitator. Post-its use it; votes and signatures will too.
    """
    value = request.POST.get(ACT_AS_FIELD, "")
    if participant is not None:
        if value:
            raise ActionError(_("Only the facilitator can write for someone else."), status=403)
        return participant
    if not value:
        return None
    pk = form_id(value)
    proxy = fetch_one(
        Participant,
        "id = %s AND workshop_id = %s AND added_by_facilitator AND removed_at IS NULL",
        [pk, workshop.pk],
    )
    if proxy is None:
        raise ActionError(_("This person is no longer in the workshop."), status=404)
    proxy.workshop = workshop
    return proxy
