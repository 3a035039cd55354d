"""The customers' page in the customer area, mounted at /kunde/."""

from django.urls import path

from treffpunkt.customers import views, views_advertising

app_name = "customers"

urlpatterns = [
    path("stammdaten/", views.MasterDataPage.as_view(), name="master_data"),
    path("werbung/", views_advertising.ConsentPage.as_view(), name="advertising"),
]
