"""Writing the audit log (P-ACC-4). Services call ``record`` inside their transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from treffpunkt.core.models import AuditEntry

if TYPE_CHECKING:
    from treffpunkt.accounts.models import Organization, User


def record(
    code: str,
    *,
    actor: User | None,
    target: models.Model | None = None,
    organization: Organization | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry. ``code`` is namespaced: ``<app>.<object>.<verb>``."""
    actor_user = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        code=code,
        actor=actor_user,
        organization=organization,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
