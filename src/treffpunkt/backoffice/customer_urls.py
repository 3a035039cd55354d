"""A business customer's area, mounted at /kunde/."""

from django.urls import include, path

from treffpunkt.backoffice import views

app_name = "customer_area"

urlpatterns = [
    path("", views.CustomerHomePage.as_view(), name="home"),
    path("", include("treffpunkt.customers.customer_urls")),
    path("", include("treffpunkt.contracts.customer_urls")),
    path("rechnungen/", include("treffpunkt.billing.customer_urls")),
    path("stoerungen/", include("treffpunkt.support.customer_urls")),
    path("verfuegbarkeit/", include("treffpunkt.availability.customer_urls")),
    path("daten/", include("treffpunkt.portability.customer_urls")),
]
