"""Rate limits on writes: fixed windows counted in the Django cache.

Two counters guard every write (any POST):

- **per address** (`RATE_LIMIT_PER_ADDRESS` writes per window), checked by
  `AddressRateLimitMiddleware` before CSRF or the view read the body. It is
  generous because a whole room can sit behind one NAT. Behind a reverse
  proxy, run Daphne with `--proxy-headers` so that the address is the
  phone's, not the proxy's.
- **per participant** (`RATE_LIMIT_PER_PARTICIPANT`), checked by the access
  helpers in `access.py` once they know who is writing: one runaway phone or
  script is slowed down, and the rest of the room is not.

A window starts on a multiple of its length (or, for the join-code throttle,
at the first wrong code: `anchored`), so each counter is one cache key that
expires by itself; in the scale-out setup the cache is Redis and every worker
shares the counts. If the cache cannot be reached, nothing is throttled: a
limiter must not turn a Redis hiccup into a room that cannot write.

A refusal is a 429 with `Retry-After` and a message in the workshop's
language: a toast for htmx (the offline queue in live.js keeps the post-it
and retries), a short page otherwise.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

logger = logging.getLogger("reciproque.ratelimit")

# The clock of the windows; tests move it instead of sleeping.
clock = time.time


def hit(scope, ident, limit, window):
    """Count one request; return 0 if it is within `limit`, else seconds to wait."""
    if not limit:
        return 0  # 0 (or None) turns the limit off
    if add(scope, ident, window) > limit:
        return wait_left(scope, ident, window)
    return 0


def add(scope, ident, window, anchored=False):
    """Count one request for (scope, ident) in its current window; return the count.

    Windows start on a multiple of their length, or, `anchored`, at the first
    request counted: then "until the window passes" means `window` seconds
    after that first request, whatever the clock says.
    """
    try:
        key = _key(scope, ident, _start(scope, ident, window, anchored, create=True))
        # add() then incr() is atomic on Redis and on the local-memory cache.
        if cache.add(key, 1, timeout=window + 1):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=window + 1)
            return 1
    except Exception:  # the cache is down: count nothing, refuse nothing
        logger.warning("rate limit not counted: the cache failed", exc_info=True)
        return 0


def count(scope, ident, window, anchored=False):
    """How many requests (scope, ident) made in its current window, without adding one."""
    try:
        start = _start(scope, ident, window, anchored, create=False)
        return 0 if start is None else cache.get(_key(scope, ident, start), 0)
    except Exception:  # the cache is down: refuse nothing
        logger.warning("rate limit not read: the cache failed", exc_info=True)
        return 0


def wait_left(scope, ident, window, anchored=False):
    """Seconds until the current window of (scope, ident) ends."""
    start = _start(scope, ident, window, anchored, create=False)
    if start is None:
        return 0
    return max(1, math.ceil(start + window - clock()))


def _start(scope, ident, window, anchored, create):
    now = clock()
    if not anchored:
        return int(now // window) * window
    start_key = f"rl:{scope}:{ident}:start"
    start = cache.get(start_key)
    if start is not None and now >= start + window:
        cache.delete(start_key)  # the cache keeps it a second longer than the window
        start = None
    if start is None and create:
        # add(): of two first requests at once, one sets the start and both use it.
        cache.add(start_key, now, timeout=window + 1)
        start = cache.get(start_key, now)
    return start


def _key(scope, ident, start):
    return f"rl:{scope}:{ident}:{start}"


def client_address(request):
    return request.META.get("REMOTE_ADDR") or "unknown"


def is_write(request):
    return request.method not in SAFE_METHODS


def _limits():
    limits = settings.RECIPROQUE
    return limits.get("RATE_LIMIT_WINDOW_SECONDS", 10), limits


def participant_over_limit(participant):
    """Seconds to wait if this participant wrote too much in this window, else 0."""
    window, limits = _limits()
    return hit("participant", participant.pk, limits.get("RATE_LIMIT_PER_PARTICIPANT"), window)


def address_over_limit(request):
    window, limits = _limits()
    return hit("address", client_address(request), limits.get("RATE_LIMIT_PER_ADDRESS"), window)


def too_many(request, retry_after):
    """The 429 a person reads, in the active language (the workshop's, where there is one)."""
    message = _("Too many requests at once. Wait a few seconds, then try again.")
    if request.headers.get("HX-Request") == "true":
        html = render_to_string("workshops/toast.html", {"message": message}, request=request)
        response = HttpResponse(html, status=429)
    else:
        from .http import back_url

        context = {"message": message, "back": back_url(request)}
        response = render(request, "workshops/too_many.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class AddressRateLimitMiddleware:
    """Refuse writes from an address above its limit, before the body is parsed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not is_write(request):
            return None
        retry_after = address_over_limit(request)
        if not retry_after:
            return None
        with translation.override(_language_of(view_kwargs) or translation.get_language()):
            return too_many(request, retry_after)


def _language_of(view_kwargs):
    """The language of the workshop a URL points at, if it points at one."""
    from .models import Workshop

    if isinstance(view_kwargs.get("pk"), int):
        found = Workshop.objects.filter(pk=view_kwargs["pk"])
    elif isinstance(view_kwargs.get("token"), str):
        found = Workshop.objects.filter(join_token=view_kwargs["token"])
    else:
        return None
    return found.values_list("language", flat=True).first()
