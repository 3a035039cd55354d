from django.urls import path

from treffpunkt.calls import views

app_name = "calls"

urlpatterns = [
    path("termine/<int:appointment_id>/gespraech/", views.call_page, name="call"),
]
