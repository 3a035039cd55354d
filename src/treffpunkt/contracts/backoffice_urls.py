"""The contracts' pages in the back office, mounted at /betrieb/."""

from django.urls import path

from treffpunkt.contracts import views_backoffice as views
from treffpunkt.contracts import views_switching

app_name = "contracts"

urlpatterns = [
    path("fristen/", views.DeadlinesPage.as_view(), name="deadlines"),
    path("katalog/", views.CataloguePage.as_view(), name="catalogue"),
    path("katalog/neu/", views.ProductCreate.as_view(), name="product_new"),
    path("katalog/<int:pk>/preis/", views.PriceCreate.as_view(), name="price_new"),
    path("auftraege/", views.OrderList.as_view(), name="orders"),
    path("auftraege/neu/", views.OrderCreate.as_view(), name="order_new"),
    path("auftraege/<int:pk>/", views.OrderDetail.as_view(), name="order"),
    path("auftraege/<int:pk>/annehmen/", views.AcceptOrder.as_view(), name="order_accept"),
    path("auftraege/<int:pk>/ablehnen/", views.DeclineOrder.as_view(), name="order_decline"),
    path("vertraege/", views.ContractList.as_view(), name="contracts"),
    path("vertraege/<int:pk>/", views.ContractDetail.as_view(), name="contract"),
    path("vertraege/<int:pk>/kuendigung/", views.RecordCancellation.as_view(), name="cancellation"),
    path("vertraege/<int:pk>/zustimmung/", views.RecordConsent.as_view(), name="consent"),
    path("vertraege/<int:pk>/aenderung/", views.AnnounceChange.as_view(), name="change"),
    path("vertraege/<int:pk>/uebertragung/", views.AnnounceTransfer.as_view(), name="transfer"),
    path("vertraege/<int:pk>/wechsel/", views_switching.RecordSwitch.as_view(), name="switch"),
    path("wechsel/<int:pk>/erledigt/", views_switching.SwitchDone.as_view(), name="switch_done"),
    path("uebertragungen/<int:pk>/widerspruch/", views.RecordObjection.as_view(), name="objection"),
    path("kunden/<int:pk>/dienst/", views.CustomerServicePage.as_view(), name="customer_service"),
    path("kunden/<int:pk>/sperren/", views.BlockService.as_view(), name="block"),
    path("sperren/<int:pk>/aufheben/", views.LiftBlock.as_view(), name="lift_block"),
    path(
        "kunden/<int:pk>/dokumente/<uuid:reference>/",
        views.CustomerDocumentDownload.as_view(),
        name="customer_document",
    ),
]
