"""Django's HTTP handler for Daphne, with the middleware run the WSGI way.

Django's own `ASGIHandler` runs every request in a thread of its own (a
`ThreadSensitiveContext` per request) and runs the middleware chain in its
async mode, where each of Django's middleware classes hops into that thread
for its `process_request` and again for its `process_response`. A post-it
written from a phone crossed between the event loop and a thread about
fifteen times, and paid for a new thread and a new database connection each
time: 12 ms of CPU through Daphne against 6 ms for the same view called
directly (docs/performance.md). The event loop that does the fan-out was
busy switching threads instead of writing to sockets.

`Handler` keeps Django's ASGI request and response handling but loads the
middleware in its synchronous mode and runs the whole chain and the view in
one call to the thread, with no per-request thread: every request's sync
code runs on asgiref's one shared sync thread (where Channels'
`database_sync_to_async` already runs the consumers' queries), which keeps
its database connection between requests (`CONN_MAX_AGE` in settings).
Writes to a workshop are serialised anyway (`live.lock_workshop`), and the
GIL lets one thread run Python at a time: more threads bought nothing but
switching.
"""

import gc

from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler


class Handler(ASGIHandler):
    def __init__(self):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # No ThreadSensitiveContext: sync work goes to the one shared sync thread.
        await self.handle(scope, receive, send)

    async def get_response_async(self, request):
        # The whole (synchronous) middleware chain and the view: one hop.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def check_static_collected():
    """Refuse to start without collectstatic's manifest, rather than fail every page.

    Pages name their assets by hashed names read from the manifest; without it
    each page would be a 500. DEBUG pages name the source files instead.
    """
    from django.conf import settings
    from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
    from django.core.exceptions import ImproperlyConfigured

    if settings.DEBUG or not isinstance(staticfiles_storage, ManifestFilesMixin):
        return
    if staticfiles_storage.hashed_files:
        return
    raise ImproperlyConfigured(
        f"No static files manifest in {settings.STATIC_ROOT}: run "
        "`.venv/bin/python manage.py collectstatic --noinput` first (`make run` does)."
    )


def get_asgi_application():
    import django
    from django.urls import get_resolver

    django.setup(set_prefix=False)
    check_static_collected()
    handler = Handler()
    get_resolver().url_patterns  # noqa: B018 (import every view now)
    # What is loaded by now lives as long as the process: keep it out of the
    # garbage collector's full passes, which otherwise stop everything for
    # ~60 ms every few seconds under writes (docs/performance.md).
    gc.freeze()
    return handler
