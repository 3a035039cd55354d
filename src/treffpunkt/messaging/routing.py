from django.urls import path

from treffpunkt.messaging.consumers import ConversationConsumer

websocket_urlpatterns = [
    path("ws/nachrichten/<int:conversation_id>/", ConversationConsumer.as_asgi()),
]
