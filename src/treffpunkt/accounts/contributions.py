"""What accounts brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import is_org_admin, is_team, signed_in
from treffpunkt.core.registries import Area, AuditCode, DemoLoader, NavEntry, registry

NAVIGATION = (
    NavEntry("accounts.member_list", Area.MAIN, _("Members"), "accounts:member_list", is_team, 50),
    NavEntry("accounts.team", Area.MAIN, _("Team"), "accounts:team", is_org_admin, 60),
    NavEntry("accounts.terms", Area.MAIN, _("Terms"), "accounts:terms_admin", is_org_admin, 80),
    NavEntry("accounts.profile", Area.MAIN, _("Profile"), "accounts:profile", signed_in, 900),
)

AUDIT_CODES = (
    AuditCode("accounts.user.registered", _("%(actor)s registered.")),
    AuditCode(
        "accounts.organization.service_hold",
        _("%(actor)s changed what of the service of %(target)s is held back."),
    ),
    AuditCode("accounts.user.email_confirmed", _("%(actor)s confirmed their e-mail address.")),
    AuditCode("accounts.user.password_reset", _("%(actor)s set a new password by reset link.")),
    AuditCode("accounts.user.password_changed", _("%(actor)s changed their password.")),
    AuditCode("accounts.user.profile_changed", _("%(actor)s changed their profile.")),
    AuditCode("accounts.invitation.sent", _("%(actor)s invited a new team member.")),
    AuditCode("accounts.invitation.accepted", _("%(actor)s accepted an invitation.")),
    AuditCode("accounts.invitation.revoked", _("%(actor)s revoked an invitation.")),
    AuditCode("accounts.member.viewed", _("%(actor)s opened the record of %(target)s.")),
    AuditCode(
        "accounts.member.email_revealed",
        _("%(actor)s revealed the e-mail address of %(target)s, stating a reason."),
    ),
    AuditCode("accounts.organization.opened", _("%(actor)s opened the organization %(target)s.")),
    AuditCode("accounts.operator.added", _("%(actor)s added %(target)s to the operator's staff.")),
    AuditCode("accounts.terms.published", _("%(actor)s published %(target)s.")),
    AuditCode("accounts.terms.accepted", _("%(actor)s accepted %(target)s.")),
    # The second factor (treffpunkt.accounts.second_factor).
    AuditCode("accounts.second_factor.enabled", _("%(actor)s switched on the second factor.")),
    AuditCode(
        "accounts.second_factor.recovery_code_used",
        _("%(actor)s logged in with a recovery code instead of the app."),
    ),
    AuditCode(
        "accounts.second_factor.recovery_codes_renewed", _("%(actor)s made new recovery codes.")
    ),
    AuditCode(
        "accounts.second_factor.removed",
        _("%(actor)s removed their second factor (switched off, or to set up a new app)."),
    ),
    AuditCode(
        "accounts.second_factor.reset",
        _("The second factor of %(target)s was reset by the operator (lost phone)."),
    ),
)


def register() -> None:
    from treffpunkt.accounts.demo import describe_accounts_demo, load_accounts_demo

    registry.add_demo_loader(
        DemoLoader("accounts", load_accounts_demo, order=10, describe=describe_accounts_demo)
    )
    registry.add_nav(*NAVIGATION)
    registry.add_audit_codes(*AUDIT_CODES)
