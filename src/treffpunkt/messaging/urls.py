from django.urls import path

from treffpunkt.messaging import views

app_name = "messaging"

urlpatterns = [
    path("nachrichten/", views.conversation_list, name="list"),
    path("nachrichten/neu/", views.new_inquiry, name="new"),
    path("nachrichten/posteingang/", views.inbox, name="inbox"),
    path("nachrichten/posteingang/zusammenfassung/", views.digest, name="digest"),
    path("nachrichten/themen/", views.topics, name="topics"),
    path("nachrichten/themen/<int:topic_id>/", views.edit_topic, name="edit_topic"),
    path("nachrichten/<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path("nachrichten/<int:conversation_id>/zuweisen/", views.assign, name="assign"),
    path("nachrichten/<int:conversation_id>/schliessen/", views.close, name="close"),
    path("nachrichten/<int:conversation_id>/oeffnen/", views.reopen, name="reopen"),
    path(
        "nachrichten/<int:conversation_id>/anhang/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
