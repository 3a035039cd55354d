from django.urls import path

from treffpunkt.accounts import organization_views, second_factor_views, views

app_name = "accounts"

urlpatterns = [
    path("konto/anmelden/", views.LoginView.as_view(), name="login"),
    path("konto/abmelden/", views.LogoutView.as_view(), name="logout"),
    path("konto/registriert/", views.registered, name="registered"),
    path("konto/bestaetigen/<str:token>/", views.confirm_email, name="confirm_email"),
    path("konto/passwort-vergessen/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "konto/passwort-vergessen/gesendet/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "konto/passwort-neu/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("konto/passwort-aendern/", views.PasswordChangeView.as_view(), name="password_change"),
    path("konto/profil/", views.profile, name="profile"),
    path("konto/zweiter-faktor/", second_factor_views.manage, name="second_factor"),
    path(
        "konto/zweiter-faktor/einrichten/",
        second_factor_views.setup,
        name="second_factor_setup",
    ),
    path(
        "konto/zweiter-faktor/pruefen/",
        second_factor_views.verify,
        name="second_factor_verify",
    ),
    path(
        "konto/zweiter-faktor/wiederherstellungscodes/",
        second_factor_views.recovery_codes,
        name="recovery_codes",
    ),
    path(
        "konto/zweiter-faktor/neue-codes/",
        second_factor_views.renew_recovery_codes,
        name="renew_recovery_codes",
    ),
    path(
        "konto/zweiter-faktor/ausschalten/",
        second_factor_views.remove,
        name="remove_second_factor",
    ),
    path("konto/bedingungen/", views.accept_terms, name="accept_terms"),
    path("einladung/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("o/<slug:org>/registrieren/", views.register, name="register"),
    path("o/<slug:org>/dokumente/<str:kind>/", views.terms_current, name="terms_current"),
    path(
        "o/<slug:org>/dokumente/<str:kind>/<int:number>/",
        views.terms_version,
        name="terms_version",
    ),
    path("team/mitglieder/", organization_views.member_list, name="member_list"),
    path(
        "team/mitglieder/<int:member_id>/",
        organization_views.member_record,
        name="member_record",
    ),
    path(
        "team/mitglieder/<int:member_id>/e-mail/",
        organization_views.reveal_member_email,
        name="reveal_member_email",
    ),
    path("verwaltung/team/", organization_views.team, name="team"),
    path(
        "verwaltung/einladungen/<int:invitation_id>/widerrufen/",
        organization_views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("verwaltung/dokumente/", organization_views.terms_admin, name="terms_admin"),
]
