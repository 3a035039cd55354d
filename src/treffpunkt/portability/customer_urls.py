"""The data export in the customer area, mounted at /kunde/daten/."""

from django.urls import path

from treffpunkt.portability import views

app_name = "portability"

urlpatterns = [
    path("", views.ExportPage.as_view(), name="export"),
    path("archiv/", views.ExportDownload.as_view(), name="download"),
]
