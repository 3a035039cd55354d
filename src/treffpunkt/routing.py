from django.urls import path

from treffpunkt.calls.routing import websocket_urlpatterns as call_patterns
from treffpunkt.core.consumers import UserEventsConsumer

websocket_urlpatterns = [
    path("ws/ereignisse/", UserEventsConsumer.as_asgi()),
    *call_patterns,
]
