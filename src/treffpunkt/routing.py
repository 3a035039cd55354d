from django.urls import path

from treffpunkt.core.consumers import UserEventsConsumer

websocket_urlpatterns = [
    path("ws/ereignisse/", UserEventsConsumer.as_asgi()),
]
