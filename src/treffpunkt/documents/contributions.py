"""What documents bring to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from treffpunkt.core.registries import AuditCode, registry

AUDIT_CODES = (
    AuditCode("documents.document.created", _("%(actor)s issued %(target)s.")),
    AuditCode("documents.document.sent", _("%(target)s was sent.")),
)


def register() -> None:
    registry.add_audit_codes(*AUDIT_CODES)
