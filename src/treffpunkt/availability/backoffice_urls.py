"""Availability in the back office, mounted at /betrieb/verfuegbarkeit/."""

from django.urls import path

from treffpunkt.availability import views

app_name = "availability"

urlpatterns = [
    path("", views.Overview.as_view(), name="overview"),
    path("kunde/<int:pk>/", views.BackofficeCustomerReport.as_view(), name="customer"),
    path("kunde/<int:pk>/pdf/", views.BackofficeCustomerReportPdf.as_view(), name="customer_pdf"),
    path("stoerungen/", views.IncidentList.as_view(), name="incidents"),
    path("stoerungen/neu/", views.OpenIncident.as_view(), name="incident_open"),
    path("stoerungen/<int:pk>/", views.IncidentDetail.as_view(), name="incident"),
    path(
        "stoerungen/<int:pk>/einstufen/",
        views.ClassifyIncident.as_view(),
        name="incident_classify",
    ),
    path("stoerungen/<int:pk>/beenden/", views.CloseIncident.as_view(), name="incident_close"),
    path("wartung/", views.MaintenanceList.as_view(), name="maintenance"),
    path("wartung/planen/", views.PlanMaintenance.as_view(), name="maintenance_plan"),
    path("messung/", views.ExternalResult.as_view(), name="external_result"),
]
