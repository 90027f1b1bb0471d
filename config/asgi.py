import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from workshops.live.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from workshops.live import wire  # noqa: E402
from workshops.live.routing import websocket_urlpatterns  # noqa: E402

# Under Daphne, a stopped server process exits even if a thread would hold it.
wire.install_exit_net()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The consumer checks Origin against the request's own Host itself.
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
