"""People for the back office's tests: the world's roles, a business customer's contact, and one
operator per capability (no superuser: the capability comes from its group alone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group

from tests.conftest import World
from tests.factories import OperatorFactory, UserFactory
from treffpunkt.accounts.models import Role, User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.core.registries import AuditCode, registry

# A code no app registers; the log shows it as it is.
UNREGISTERED_CODE = "tests.backoffice.never_registered"
# A code the tests register with a sentence of their own (``test_audit_code``).
TEST_CODE = "tests.backoffice.thing_checked"
TEST_SENTENCE = "%(actor)s checked %(target)s."


def capability_group(capability: Capability) -> Group:
    """The group that hands out ``capability``, found by its permission: ``group_name`` is made
    from the capability's translated label, so it differs with the active language."""
    return Group.objects.get(permissions__codename=capability.codename)


def operator_with(capability: Capability | None, **fields: object) -> User:
    """An operator holding exactly ``capability`` through its group (or none at all)."""
    operator: User = OperatorFactory(capabilities=[], **fields)
    if capability is not None:
        operator.groups.add(capability_group(capability))
    return operator


def customer_contact(**fields: object) -> User:
    contact: User = UserFactory(role=Role.CUSTOMER_CONTACT, organization=None, **fields)
    return contact


@pytest.fixture
def people(world: World) -> dict[str, User]:
    """Everyone the access table tries, by a short name (``op_<capability>`` for operators)."""
    found = {
        "member": world.member,
        "staff": world.staff,
        "org_admin": world.org_admin,
        "other_staff": world.other_staff,
        "customer_contact": customer_contact(display_name="Kai Kunde"),
        "op_none": operator_with(None, display_name="Nora Ohnerecht"),
        # The world's operator is a superuser: every capability at once.
        "superuser": world.operator,
    }
    for capability in Capability:
        found[f"op_{capability.value}"] = operator_with(
            capability, display_name=f"Olaf {capability.label}"
        )
    return found


@pytest.fixture
def test_audit_code() -> Iterator[str]:
    """``TEST_CODE`` registered with ``TEST_SENTENCE`` for the test, and taken out again."""
    registry.add_audit_codes(AuditCode(TEST_CODE, TEST_SENTENCE))
    try:
        yield TEST_CODE
    finally:
        registry.audit_codes.pop(TEST_CODE, None)
