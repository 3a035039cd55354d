"""The billing pages in the back office, mounted at /betrieb/rechnungen/."""

from django.urls import path

from treffpunkt.billing import (
    views_approval,
    views_dunning,
    views_hardware,
    views_objections,
    views_payments,
)
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
    # Hardware deliveries (P-BILL-4).
    path("hardware/", views_hardware.HardwareList.as_view(), name="hardware"),
    path("hardware/planen/", views_hardware.PlanDeliveries.as_view(), name="hardware_plan"),
    path("hardware/<int:pk>/", views_hardware.HardwareDetail.as_view(), name="hardware_delivery"),
    path(
        "hardware/<int:pk>/verschieben/",
        views_hardware.PostponeDelivery.as_view(),
        name="hardware_postpone",
    ),
    path(
        "hardware/<int:pk>/geliefert/",
        views_hardware.MarkDelivered.as_view(),
        name="hardware_deliver",
    ),
]

# Objections and the itemized record (P-BILL-3).

urlpatterns += [
    path("einwaende/", views_objections.ObjectionList.as_view(), name="objections"),
    path("einwaende/neu/", views_objections.RecordObjection.as_view(), name="record_objection"),
    path("einwaende/<int:pk>/", views_objections.ObjectionDetail.as_view(), name="objection"),
    path(
        "einwaende/<int:pk>/verlangt/",
        views_objections.DemandRecord.as_view(),
        name="demand_record",
    ),
    path(
        "einwaende/<int:pk>/nachweis/",
        views_objections.DeliverRecord.as_view(),
        name="deliver_record",
    ),
    path(
        "einwaende/<int:pk>/gutschrift/",
        views_objections.SettleObjection.as_view(),
        name="settle_objection",
    ),
    path(
        "einwaende/<int:pk>/ablehnen/",
        views_objections.RejectObjection.as_view(),
        name="reject_objection",
    ),
    path(
        "einwaende/<int:pk>/<slug:which>.pdf",
        views_objections.ObjectionDocument.as_view(),
        name="objection_document",
    ),
]

# Dunning and default (P-BILL-2).

urlpatterns += [
    path("mahnwesen/", views_dunning.DunningOverview.as_view(), name="dunning"),
    path("verzug/<int:pk>/", views_dunning.FindingDetail.as_view(), name="default_finding"),
    path(
        "verzug/<int:pk>/kuendigen/",
        views_dunning.TerminateForDefault.as_view(),
        name="terminate_for_default",
    ),
]

# Four eyes for large credit notes.

urlpatterns += [
    path("freigaben/", views_approval.ApprovalList.as_view(), name="approvals"),
    path("freigaben/<int:pk>/", views_approval.DecideRequest.as_view(), name="approval"),
]

# Payments: bank statements, open items, the DATEV export.

urlpatterns += [
    path("zahlungen/", views_payments.Statements.as_view(), name="statements"),
    path("zahlungen/import/", views_payments.ImportStatement.as_view(), name="import_statement"),
    path(
        "zahlungen/<int:pk>/zuordnen/",
        views_payments.AllocateEntry.as_view(),
        name="allocate",
    ),
    path("offene-posten/", views_payments.OpenItems.as_view(), name="open_items"),
    path(
        "offene-posten/<int:pk>/",
        views_payments.CustomerOpenItems.as_view(),
        name="open_items_customer",
    ),
    path("datev/", views_payments.DatevExport.as_view(), name="datev"),
]
