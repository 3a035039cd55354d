from django.urls import path

from treffpunkt.calls.routing import websocket_urlpatterns as call_patterns
from treffpunkt.messaging.consumers import EventsConsumer
from treffpunkt.messaging.routing import websocket_urlpatterns as message_patterns

# The user's event stream carries the unread count of messages, so messaging serves it.
websocket_urlpatterns = [
    path("ws/ereignisse/", EventsConsumer.as_asgi()),
    *call_patterns,
    *message_patterns,
]
