"""The invoices in the customer area, mounted at /kunde/rechnungen/."""

from django.urls import path

from treffpunkt.billing import views_customer as views

app_name = "billing"

urlpatterns = [
    path("", views.CustomerInvoices.as_view(), name="invoices"),
    path("<int:pk>/pdf/", views.CustomerInvoicePdf.as_view(), name="invoice_pdf"),
    path("<int:pk>/xml/", views.CustomerInvoiceXml.as_view(), name="invoice_xml"),
]
