"""Writing the audit log (P-ACC-4). Services call ``record`` inside their transaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models

from treffpunkt.core import lean
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import registry

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from treffpunkt.accounts.models import Organization, User


def record(
    code: str,
    *,
    actor: User | None,
    target: models.Model | None = None,
    organization: Organization | None = None,
    organization_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry. ``code`` is namespaced (``<app>.<object>.<verb>``) and registered
    by its app with the sentence the audit log shows. An unregistered code fails under
    ``AUDIT_CODES_STRICT`` (the tests) and is logged otherwise: the entry itself is never lost.

    The organization is given as an object or, where the caller has only its id (a hot path
    that does not load it), as ``organization_id``."""
    if organization is not None and organization_id is not None:
        raise TypeError("give the organization or its id, not both")
    if code not in registry.audit_codes:
        if getattr(settings, "AUDIT_CODES_STRICT", False):
            raise LookupError(f"audit code {code!r} is not registered by its app")
        logger.warning("audit code %s is not registered", code)
    actor_user = actor if actor is not None and actor.is_authenticated else None
    # A lean insert: every write path records an entry, posting a message among them.
    return lean.insert(
        AuditEntry(
            code=code,
            actor=actor_user,
            organization_id=organization.pk if organization is not None else organization_id,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            data=data or {},
        )
    )
