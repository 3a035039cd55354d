"""The customers' pages in the back office, mounted at /betrieb/kunden/."""

from django.urls import path

from treffpunkt.customers import views, views_advertising

app_name = "customers"

urlpatterns = [
    path("", views.CustomerList.as_view(), name="list"),
    path("neu/", views.CustomerCreate.as_view(), name="new"),
    path("werbung/", views_advertising.SendAdvertising.as_view(), name="advertising"),
    path("<int:pk>/", views.CustomerDetail.as_view(), name="detail"),
    path("<int:pk>/organisation/", views.OpenOrganization.as_view(), name="open_organization"),
    path("<int:pk>/kennungen/", views.AllocateFixedId.as_view(), name="allocate_fixed_id"),
    path(
        "<int:pk>/kennungen/<int:fixed_id>/freigeben/",
        views.ReleaseFixedId.as_view(),
        name="release_fixed_id",
    ),
]
