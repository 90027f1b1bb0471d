from django.urls import path

from .consumer import LiveConsumer

websocket_urlpatterns = [
    path("ws/w/<int:workshop_id>/", LiveConsumer.as_asgi(), name="ws_live"),
]
