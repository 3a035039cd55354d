"""Operators look here; they change nothing here (see treffpunkt.core.admin). Users change
through their profile, invitations and the services behind them; terms are published on the
organization's terms page (``publish_terms_version``) and accepted on the consent page."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group

from treffpunkt.accounts.models import Organization, TermsAcceptance, TermsVersion, User
from treffpunkt.core.admin import ReadOnlyModelAdmin


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyModelAdmin[Organization]):
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(User)
class UserAdmin(ReadOnlyModelAdmin[User]):
    """No e-mail address here: operators are other users too (P-ACC-3)."""

    list_display = ["display_name", "role", "organization", "is_active", "date_joined"]
    list_filter = ["role", "organization", "is_active"]
    search_fields = ["display_name"]
    # A view-only page shows every field unless told which: this list keeps the address and
    # the password hash off it.
    fields = ["display_name", "role", "organization", "preferred_language", "is_active"]


@admin.register(TermsVersion)
class TermsVersionAdmin(ReadOnlyModelAdmin[TermsVersion]):
    list_display = ["organization", "kind", "number", "label", "effective_at"]
    list_filter = ["organization", "kind"]


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(ReadOnlyModelAdmin[TermsAcceptance]):
    list_display = ["user", "version", "accepted_at"]
    list_filter = ["version__organization", "version__kind"]


# Django registers a writable Group admin; operators' capabilities will be granted by a service
# (with an audit entry), so groups and their permissions are only shown here.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyModelAdmin[Group]):
    search_fields = ["name"]
    ordering = ["name"]
    fields = ["name", "permissions"]


# django-otp registers writable admins for its devices, which also show the secret keys and
# the recovery codes. Devices change only through treffpunkt.accounts.second_factor (with an
# audit entry), and no operator needs to see anybody's keys, so they are not in the admin.
def _unregister_second_factor_devices() -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_second_factor_devices()
