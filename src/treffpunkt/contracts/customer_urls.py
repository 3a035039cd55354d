"""The contracts' pages in the customer area, mounted at /kunde/."""

from django.urls import path

from treffpunkt.contracts import views_customer as views

app_name = "contracts"

urlpatterns = [
    path("vertraege/", views.CustomerContracts.as_view(), name="list"),
    path("vertraege/<int:pk>/", views.CustomerContractDetail.as_view(), name="contract"),
    path("vertraege/<int:pk>/kuendigen/", views.CustomerCancel.as_view(), name="cancel"),
    path("vertraege/<int:pk>/zustimmen/", views.CustomerConsent.as_view(), name="consent"),
    path("bestellen/", views.CustomerOrderPage.as_view(), name="order"),
    path("dokumente/", views.CustomerDocuments.as_view(), name="documents"),
    path("dokumente/<uuid:reference>/", views.CustomerDocumentDownload.as_view(), name="document"),
]
