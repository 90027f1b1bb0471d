import json
import os
from pathlib import Path

from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    """collectstatic without the htmx builds no page loads.

    django-htmx ships htmx 2 and 4, minified or not, with extensions; pages load
    only htmx-2.min.js (`{% htmx_script %}`), and django-htmx.js when DEBUG.
    Hashing and compressing the rest made `make run` wait seconds for nothing.
    """

    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "django_htmx/htmx-4*",
        "django_htmx/htmax-*",
        "django_htmx/htmx-2.js",
        "django_htmx/ext/*",
    ]


def static_is_stale():
    """True when collectstatic's output lacks a source file or is older than one.

    For the tests and the bench, which must serve what the sources are now
    without paying ~15 s of hashing and compressing when nothing changed.
    """
    from django.apps import apps
    from django.conf import settings
    from django.contrib.staticfiles import finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    collected_at = manifest.stat().st_mtime
    known = set(json.loads(manifest.read_text())["paths"])
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore):
            if path not in known or os.path.getmtime(storage.path(path)) > collected_at:
                return True
    return False
