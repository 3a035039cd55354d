from django.urls import path

from treffpunkt.booking import admin_views, views

app_name = "booking"

urlpatterns = [
    # members
    path("termine/", views.my_appointments, name="mine"),
    path("termine/buchen/", views.choose_type, name="book"),
    path("termine/buchen/<int:type_id>/", views.choose_slot, name="slots"),
    path("termine/buchen/<int:type_id>/anfragen/", views.request_slot, name="request"),
    path("termine/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path("termine/<int:appointment_id>/absagen/", views.cancel, name="cancel"),
    path("termine/<int:appointment_id>/verschieben/", views.move, name="move"),
    path(
        "termine/<int:appointment_id>/vorschlag-annehmen/",
        views.accept_proposal,
        name="accept_proposal",
    ),
    path(
        "termine/<int:appointment_id>/vorschlag-ablehnen/",
        views.decline_proposal,
        name="decline_proposal",
    ),
    # staff
    path("termine/<int:appointment_id>/bestaetigen/", views.confirm, name="confirm"),
    path("termine/<int:appointment_id>/ablehnen/", views.decline, name="decline"),
    path("termine/<int:appointment_id>/anderer-termin/", views.propose, name="propose"),
    path("team/anfragen/", views.request_inbox, name="inbox"),
    path("team/kalender/", views.agenda, name="agenda"),
    # organization admins (and staff for their own hours)
    path("verwaltung/terminarten/", admin_views.type_list, name="types"),
    path("verwaltung/terminarten/neu/", admin_views.type_edit, name="type_new"),
    path("verwaltung/terminarten/<int:type_id>/", admin_views.type_edit, name="type_edit"),
    path("verwaltung/terminregeln/", admin_views.policy_edit, name="policy"),
    path("verwaltung/sprechzeiten/", admin_views.hours_overview, name="hours_overview"),
    path("sprechzeiten/<int:staff_id>/", admin_views.hours_edit, name="hours"),
    path(
        "sprechzeiten/ausnahmen/<int:exception_id>/entfernen/",
        admin_views.remove_exception,
        name="remove_exception",
    ),
]
