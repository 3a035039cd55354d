"""The operator's back office, mounted at /betrieb/ (the Django admin keeps /betrieb/admin/)."""

from django.urls import include, path

from treffpunkt.backoffice import audit_log, data_rules, outbox, views

app_name = "backoffice"

urlpatterns = [
    path("", views.HomePage.as_view(), name="home"),
    path("protokoll/", audit_log.AuditLogPage.as_view(), name="audit_log"),
    path("protokoll/<int:pk>/", audit_log.AuditEntryPage.as_view(), name="audit_entry"),
    path("postausgang/", outbox.OutboxPage.as_view(), name="outbox"),
    path("postausgang/<int:pk>/", outbox.OutboxMailPage.as_view(), name="outbox_mail"),
    path("datenregeln/", data_rules.DataRulesPage.as_view(), name="data_rules"),
    path("kunden/", include("treffpunkt.customers.backoffice_urls")),
    path("", include("treffpunkt.contracts.backoffice_urls")),
    path("rechnungen/", include("treffpunkt.billing.backoffice_urls")),
    path("stoerungen/", include("treffpunkt.support.backoffice_urls")),
    path("verfuegbarkeit/", include("treffpunkt.availability.backoffice_urls")),
]
