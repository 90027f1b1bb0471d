"""The address phones can reach: PUBLIC_URL, else this machine's LAN address."""

import socket

from django.conf import settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "0.0.0.0"}


def find_lan_address():
    """This machine's address on its LAN, or None when it has none (no packet is sent).

    Connecting a UDP socket only asks the kernel which interface the route to a
    private address goes out of: the default route, on a laptop on venue Wi-Fi.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 1))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def lan_address():
    """This machine's address on its LAN, 127.0.0.1 when it has none."""
    return find_lan_address() or "127.0.0.1"


def public_base_url(request):
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL
    host = request.get_host()
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    if name in LOCAL_HOSTS:
        # The facilitator opened the console on localhost; phones need the LAN address.
        host = lan_address() + (f":{port}" if port else "")
    return f"{request.scheme}://{host}"
