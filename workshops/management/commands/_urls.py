import os

from django.conf import settings

from workshops.network import lan_address


def base_url():
    """What phones on the venue network type or scan to reach this server."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL
    port = os.environ.get("PORT", "8000")
    return f"http://{lan_address()}:{port}"
