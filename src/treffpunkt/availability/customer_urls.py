"""Availability in the customer area, mounted at /kunde/verfuegbarkeit/."""

from django.urls import path

from treffpunkt.availability import views

app_name = "availability"

urlpatterns = [
    path("", views.CustomerReport.as_view(), name="report"),
    path("pdf/", views.CustomerReportPdf.as_view(), name="pdf"),
]
