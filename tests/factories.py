from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from treffpunkt.accounts.models import Organization, Role, TermsKind, TermsVersion, User

PASSWORD = "Korrekt-Pferd-Batterie-7"


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Kasse {n}")
    slug = factory.Sequence(lambda n: f"kasse-{n}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.MEMBER
    organization = factory.SubFactory(OrganizationFactory)
    email_confirmed_at = factory.LazyFunction(timezone.now)
    preferred_language = "de"

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class MemberFactory(UserFactory):
    role = Role.MEMBER


class StaffFactory(UserFactory):
    role = Role.STAFF


class OrgAdminFactory(UserFactory):
    role = Role.ORG_ADMIN


class OperatorFactory(UserFactory):
    """An operator's staff member holding every capability, as the demo's; operators are never
    superusers. Tests of a single capability make their own (tests/backoffice)."""

    role = Role.OPERATOR
    organization = None
    is_staff = True
    is_superuser = False

    @factory.post_generation
    def capabilities(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        from django.contrib.auth.models import Group

        from treffpunkt.accounts.permissions import Capability

        wanted = list(Capability) if extracted is None else list(extracted)
        self.groups.add(*Group.objects.filter(name__in=[c.group_name for c in wanted]))


class TermsVersionFactory(factory.django.DjangoModelFactory[TermsVersion]):
    class Meta:
        model = TermsVersion

    organization = factory.SubFactory(OrganizationFactory)
    kind = TermsKind.TERMS
    number = factory.Sequence(lambda n: n + 1)
    label = factory.LazyAttribute(lambda o: f"v{o.number}")
    text = factory.LazyAttribute(lambda o: f"Text of {o.kind} version {o.number}")
    effective_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    published_by = factory.SubFactory(
        OrgAdminFactory, organization=factory.SelfAttribute("..organization")
    )
