"""The fault tickets in the back office, mounted at /betrieb/stoerungen/."""

from django.urls import path

from treffpunkt.support import views

app_name = "support"

urlpatterns = [
    path("", views.TicketList.as_view(), name="tickets"),
    path("erfassen/", views.RecordTicket.as_view(), name="record"),
    path("<int:pk>/", views.TicketDetail.as_view(), name="ticket"),
    path("<int:pk>/<slug:action>/", views.TicketAction.as_view(), name="ticket_action"),
    path("datei/<int:pk>/", views.BackofficeAttachment.as_view(), name="attachment"),
]
