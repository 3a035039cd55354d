"""Who may do what: the one place for roles and the operator's capabilities.

Wrong role or missing capability → 403; another organization's object → 404 (selectors).
Views use the decorators, consumers and tasks the functions (``has_capability``, ``may_read``).

The operator's staff hold named capabilities (Django permissions, handed out through one group
per capability, kept by ``ensure_capability_groups`` after every migration). Operators are not
superusers. The auditor reads everything in the back office and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import User
from treffpunkt.core.errors import NotAllowed


class Capability(models.TextChoices):
    """What an operator's staff member may do in the back office."""

    CUSTOMERS = "customers", _("Customers and contracts")
    BILLING = "billing", _("Billing")
    SUPPORT = "support", _("Support")
    AVAILABILITY = "availability", _("Availability")
    AUDITOR = "auditor", _("Read-only audit")
    PLATFORM = "platform", _("Platform administration")

    @property
    def codename(self) -> str:
        return f"capability_{self.value}"

    @property
    def permission(self) -> str:
        return f"accounts.{self.codename}"

    @property
    def group_name(self) -> str:
        """The group's name: fixed, whatever language is active (groups are made by migrate,
        which runs without translations, and looked up in requests, which have them)."""
        return CAPABILITY_GROUPS[self.value]


CAPABILITY_GROUPS = {
    "customers": "Betrieb: Kunden und Verträge",
    "billing": "Betrieb: Abrechnung",
    "support": "Betrieb: Support",
    "availability": "Betrieb: Verfügbarkeit",
    "auditor": "Betrieb: Prüfung (nur lesen)",
    "platform": "Betrieb: Plattformverwaltung",
}


# Who sees what: predicates for navigation entries and page parts (any user, anonymous too).
def signed_in(user: Any) -> bool:
    return bool(user.is_authenticated)


def is_member(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_member)


def is_team(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_team)


def is_org_admin(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_org_admin)


def has_capability(user: Any, capability: Capability) -> bool:
    """An active operator holding ``capability`` (through its group or directly)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_operator
        and user.has_perm(capability.permission)
    )


def require_capability(user: User | None, capability: Capability) -> User:
    """``user`` if they hold ``capability``, else ``NotAllowed``: the check at the top of every
    back-office service (the views check the same with ``capability_required``)."""
    if user is None or not has_capability(user, capability):
        raise NotAllowed
    return user


def may_read(user: Any, capability: Capability) -> bool:
    """May look at what ``capability`` covers: its holders and the auditor."""
    return has_capability(user, capability) or has_capability(user, Capability.AUDITOR)


def capabilities_of(user: Any) -> list[Capability]:
    return [capability for capability in Capability if has_capability(user, capability)]


def is_in_back_office(user: Any) -> bool:
    """Any capability opens the back office's start page."""
    return bool(capabilities_of(user))


View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def _requires(check: Callable[[User], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(View, wrapped)

    return decorator


login_required = _requires(lambda user: True)
member_required = _requires(lambda user: user.is_member)
team_required = _requires(lambda user: user.is_team)
org_admin_required = _requires(lambda user: user.is_org_admin)
operator_required = _requires(lambda user: user.is_operator)
customer_contact_required = _requires(lambda user: user.is_customer_contact)


def capability_required(capability: Capability, *, write: bool = False) -> Callable[[View], View]:
    """Views of the back office: reading needs ``capability`` or the auditor's; changing
    (``write=True``) needs ``capability`` itself."""
    if write:
        return _requires(lambda user: has_capability(user, capability))
    return _requires(lambda user: may_read(user, capability))


back_office_required = _requires(is_in_back_office)


def ensure_capability_groups(**_: Any) -> None:
    """One group per capability, holding its permission (run after every migration)."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(User)
    for capability in Capability:
        permission, _created = Permission.objects.get_or_create(
            content_type=content_type,
            codename=capability.codename,
            defaults={"name": f"Capability: {capability.value}"},
        )
        group, _created = Group.objects.get_or_create(name=capability.group_name)
        group.permissions.add(permission)
        if capability in (Capability.PLATFORM, Capability.AUDITOR):
            # Both look at everything: platform administration in the read-only Django
            # admin, the auditor wherever the back office shows records.
            group.permissions.add(*Permission.objects.filter(codename__startswith="view_"))
