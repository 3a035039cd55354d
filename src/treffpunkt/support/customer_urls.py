"""The fault reports in the customer area, mounted at /kunde/stoerungen/."""

from django.urls import path

from treffpunkt.support import views

app_name = "support"

urlpatterns = [
    path("", views.CustomerTickets.as_view(), name="tickets"),
    path("melden/", views.CustomerReport.as_view(), name="report"),
    path("<int:pk>/", views.CustomerTicket.as_view(), name="ticket"),
    path("datei/<int:pk>/", views.CustomerAttachment.as_view(), name="attachment"),
]
