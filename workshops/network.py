"""The address phones can reach: PUBLIC_URL, else this machine's LAN address."""

import socket

from django.conf import settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "0.0.0.0"}


def lan_address():
    """This machine's address on its LAN (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 1))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def public_base_url(request):
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL
    host = request.get_host()
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    if name in LOCAL_HOSTS:
        # The facilitator opened the console on localhost; phones need the LAN address.
        host = lan_address() + (f":{port}" if port else "")
    return f"{request.scheme}://{host}"
