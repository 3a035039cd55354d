"""The billing pages in the back office, mounted at /betrieb/rechnungen/."""

from django.urls import path

from treffpunkt.billing import views_backoffice as views

app_name = "billing"

urlpatterns = [
    path("", views.InvoiceList.as_view(), name="invoices"),
    path("<int:pk>/", views.InvoiceDetail.as_view(), name="invoice"),
    path("<int:pk>/pdf/", views.InvoicePdf.as_view(), name="invoice_pdf"),
    path("<int:pk>/xml/", views.InvoiceXml.as_view(), name="invoice_xml"),
    path("<int:pk>/senden/", views.SendInvoice.as_view(), name="send"),
    path("<int:pk>/gutschrift/", views.CreditNote.as_view(), name="credit_note"),
    path("vertrag/<int:pk>/", views.InvoiceContract.as_view(), name="invoice_contract"),
    path("ausstellen/", views.IssueInvoice.as_view(), name="issue"),
]
