"""The invoices in the customer area, mounted at /kunde/rechnungen/."""

from django.urls import path

from treffpunkt.billing import views_customer as views
from treffpunkt.billing import views_hardware, views_objections

app_name = "billing"

urlpatterns = [
    path("", views.CustomerInvoices.as_view(), name="invoices"),
    path("<int:pk>/pdf/", views.CustomerInvoicePdf.as_view(), name="invoice_pdf"),
    path("<int:pk>/xml/", views.CustomerInvoiceXml.as_view(), name="invoice_xml"),
    path("hardware/", views_hardware.CustomerHardware.as_view(), name="hardware"),
]

# Objections and the itemized record (P-BILL-3).

urlpatterns += [
    path("einwaende/", views_objections.CustomerObjections.as_view(), name="objections"),
    path("<int:pk>/einwand/", views_objections.CustomerObject.as_view(), name="object"),
    path("einwaende/<int:pk>/", views_objections.CustomerObjection.as_view(), name="objection"),
    path(
        "einwaende/<int:pk>/nachweis/",
        views_objections.CustomerDemandRecord.as_view(),
        name="demand_record",
    ),
    path(
        "einwaende/<int:pk>/<slug:which>.pdf",
        views_objections.CustomerObjectionDocument.as_view(),
        name="objection_document",
    ),
]
