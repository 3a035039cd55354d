"""Bases for every Django admin registration: the admin shows, it never writes.

Every write goes through an app's service, which checks the rules and leaves an audit entry; a
form in the admin would do neither. So adding, changing and deleting are refused for everybody,
superusers included, while viewing stays with Django's view permission.
tests/core/test_admin_write_path.py walks the admin site and fails on any writable registration.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest

_ModelT = TypeVar("_ModelT", bound=Model)
_ChildModelT = TypeVar("_ChildModelT", bound=Model)
_ParentModelT = TypeVar("_ParentModelT", bound=Model)

NO_WRITES = "The administration does not write; use the page that calls the service."


class ReadOnlyModelAdmin(admin.ModelAdmin[_ModelT]):
    # No actions at all: Django's site-wide "delete selected" would delete without a service.
    # An action that calls a service may be added back on a subclass.
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False

    # The views never get here while the permissions above say no. Should a subclass lift one
    # without routing its save through a service, the write still fails instead of skipping
    # the audit log.
    def save_model(self, request: HttpRequest, obj: _ModelT, form: Any, change: Any) -> None:
        raise PermissionDenied(NO_WRITES)

    def delete_model(self, request: HttpRequest, obj: _ModelT) -> None:
        raise PermissionDenied(NO_WRITES)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        raise PermissionDenied(NO_WRITES)


class ReadOnlyTabularInline(admin.TabularInline[_ChildModelT, _ParentModelT]):
    """Rows shown under a read-only parent; no blank rows to add, none to delete."""

    extra = 0
    can_delete = False

    # Django's inline takes the parent row here, unlike the model admin it derives from; the
    # stubs carry the same ignore on InlineModelAdmin.
    def has_add_permission(  # type: ignore[override]
        self, request: HttpRequest, obj: _ParentModelT | None
    ) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _ParentModelT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _ParentModelT | None = None) -> bool:
        return False
