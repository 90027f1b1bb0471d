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
