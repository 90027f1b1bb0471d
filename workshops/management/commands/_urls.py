import os

from django.conf import settings

from workshops.network import find_lan_address

# Why base_url() chose its address, as `announce` tells the facilitator.
FROM_PUBLIC_URL = "public_url"
FROM_LAN = "lan"
NO_LAN = "no_lan"


def chosen_base_url():
    """(what phones on the venue network type or scan to reach this server, why)."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL, FROM_PUBLIC_URL
    port = os.environ.get("PORT", "8000")
    address = find_lan_address()
    if address is None:
        return f"http://127.0.0.1:{port}", NO_LAN
    return f"http://{address}:{port}", FROM_LAN


def base_url():
    return chosen_base_url()[0]
