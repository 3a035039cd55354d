from __future__ import annotations

from django.contrib import admin

from treffpunkt.accounts.models import Organization, TermsAcceptance, TermsVersion, User


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    """No e-mail address here: operators are other users too (P-ACC-3)."""

    list_display = ["display_name", "role", "organization", "is_active", "date_joined"]
    list_filter = ["role", "organization", "is_active"]
    search_fields = ["display_name"]
    fields = ["display_name", "role", "organization", "preferred_language", "is_active"]
    readonly_fields = ["role", "organization"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin[TermsVersion]):
    list_display = ["organization", "kind", "number", "label", "effective_at"]
    list_filter = ["organization", "kind"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # published versions never change

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(admin.ModelAdmin[TermsAcceptance]):
    list_display = ["user", "version", "accepted_at"]
    list_filter = ["version__organization", "version__kind"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
