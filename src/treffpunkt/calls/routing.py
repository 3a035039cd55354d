from django.urls import path

from treffpunkt.calls.consumers import CallConsumer

websocket_urlpatterns = [
    path("ws/gespraech/<int:appointment_id>/", CallConsumer.as_asgi()),
]
