"""The only write path for business customers (P-OP-1). Every function needs an operator
holding ``Capability.CUSTOMERS``, runs in one transaction and writes an audit entry.

How a consumer is recognised and refused (§ 1 of the terms: business customers only):

- the person entering the customer must declare that it is a business or public body
  (``is_business``); without that declaration the customer is a consumer;
- a legal form naming a private person ("Privatperson", "Verbraucher", "privat", …) is a
  consumer;
- a company must state its legal form and its VAT ID, a public body its Leitweg-ID: without
  them nothing shows that the customer acts as a business.

The first two are refused with ``CONSUMER_REFUSED``; the missing numbers with their own
message on their field. Nothing is written when any check fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treffpunkt.accounts import operator_services
from treffpunkt.accounts.models import Organization, Role, User
from treffpunkt.accounts.permissions import Capability, require_capability
from treffpunkt.accounts.services import normalize_email
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.customers.models import (
    Customer,
    CustomerContact,
    CustomerKind,
    CustomerOrganization,
    FixedId,
)
from treffpunkt.customers.validation import clean_leitweg_id, clean_vat_id
from treffpunkt.notifications.services import queue_mail

CONSUMER_REFUSED = gettext_lazy(
    "Treffpunkt is offered to businesses and public bodies only (§ 1 of the terms). "
    "We cannot take on private persons as customers."
)
# Legal forms (lower case, without dots) that name a private person, not a business.
CONSUMER_LEGAL_FORMS = frozenset(
    {"privatperson", "privat", "private person", "verbraucher", "verbraucherin", "consumer"}
)
NUMBER_PREFIX = "K-"


@dataclass(frozen=True)
class NewContact:
    """A contact to add. With ``login`` they get an account in the customer area and a mail
    with a link to choose their password."""

    name: str
    email: str
    function: str = ""
    phone: str = ""
    login: bool = True


@dataclass(frozen=True)
class MasterData:
    """A customer's master data after the checks: what is stored."""

    kind: str
    legal_name: str
    legal_form: str
    street: str
    postal_code: str
    city: str
    country: str
    billing_name: str
    billing_street: str
    billing_postal_code: str
    billing_city: str
    billing_country: str
    vat_id: str
    leitweg_id: str

    def fields(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _require(user: User | None) -> None:
    require_capability(user, Capability.CUSTOMERS)


def _text(value: str, *, code: str, message: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise DomainError(message, code=code)
    return value


def check_master_data(
    *,
    kind: str,
    is_business: bool,
    legal_name: str,
    legal_form: str = "",
    street: str,
    postal_code: str,
    city: str,
    country: str = "DE",
    billing_name: str = "",
    billing_street: str = "",
    billing_postal_code: str = "",
    billing_city: str = "",
    billing_country: str = "",
    vat_id: str = "",
    leitweg_id: str = "",
) -> MasterData:
    """The checked, normalised master data, or ``DomainError`` with the field as its code
    (``consumer`` for the refusal of a private person)."""
    if kind not in CustomerKind.values:
        raise DomainError(_("Please choose whether it is a company or a public body."), code="kind")
    legal_form = " ".join((legal_form or "").split())
    if not is_business or legal_form.lower().replace(".", "") in CONSUMER_LEGAL_FORMS:
        raise DomainError(CONSUMER_REFUSED, code="consumer")
    legal_name = _text(legal_name, code="legal_name", message=_("Please enter the legal name."))
    if kind == CustomerKind.COMPANY and not legal_form:
        raise DomainError(
            _("Please enter the company's legal form, for example GmbH."), code="legal_form"
        )
    street = _text(street, code="street", message=_("Please enter the street and number."))
    postal_code = _text(postal_code, code="postal_code", message=_("Please enter the postal code."))
    city = _text(city, code="city", message=_("Please enter the city."))
    country = _country(country or "DE", code="country")
    billing = [billing_street, billing_postal_code, billing_city]
    billing = [" ".join((part or "").split()) for part in billing]
    if any(billing) and not all(billing):
        raise DomainError(
            _(
                "For a separate billing address, please enter its street, postal code and city "
                "(or leave all three empty to use the main address)."
            ),
            code="billing_street",
        )
    has_billing = all(billing)
    vat = ""
    leitweg = ""
    if kind == CustomerKind.COMPANY:
        vat = clean_vat_id(vat_id)
    elif vat_id.strip():
        vat = clean_vat_id(vat_id)  # a public body may have one; if given it must be valid
    if kind == CustomerKind.PUBLIC_BODY or leitweg_id.strip():
        leitweg = clean_leitweg_id(leitweg_id)
    return MasterData(
        kind=kind,
        legal_name=legal_name,
        legal_form=legal_form,
        street=street,
        postal_code=postal_code,
        city=city,
        country=country,
        billing_name=" ".join(billing_name.split()) if has_billing else "",
        billing_street=billing[0],
        billing_postal_code=billing[1],
        billing_city=billing[2],
        billing_country=_country(billing_country or country, code="billing_country")
        if has_billing
        else "",
        vat_id=vat,
        leitweg_id=leitweg,
    )


def _country(value: str, *, code: str) -> str:
    value = value.strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise DomainError(
            _("Please enter the country as its two-letter code, for example DE."), code=code
        )
    return value


def create_customer(
    *,
    actor: User,
    kind: str,
    is_business: bool,
    legal_name: str,
    legal_form: str = "",
    street: str,
    postal_code: str,
    city: str,
    country: str = "DE",
    billing_name: str = "",
    billing_street: str = "",
    billing_postal_code: str = "",
    billing_city: str = "",
    billing_country: str = "",
    vat_id: str = "",
    leitweg_id: str = "",
    contacts: Sequence[NewContact] = (),
) -> Customer:
    """A new business customer with its customer number and its contacts (each with a login
    gets an invitation mail). Refuses consumers (see the module's docstring)."""
    _require(actor)
    data = check_master_data(
        kind=kind,
        is_business=is_business,
        legal_name=legal_name,
        legal_form=legal_form,
        street=street,
        postal_code=postal_code,
        city=city,
        country=country,
        billing_name=billing_name,
        billing_street=billing_street,
        billing_postal_code=billing_postal_code,
        billing_city=billing_city,
        billing_country=billing_country,
        vat_id=vat_id,
        leitweg_id=leitweg_id,
    )
    with transaction.atomic():
        customer = Customer.objects.create(**data.fields())
        # Unique by the primary key, without a lock or a counter; gaps are allowed.
        customer.customer_number = f"{NUMBER_PREFIX}{customer.pk:05d}"
        customer.save(update_fields=["customer_number"])
        audit.record(
            "customers.customer.created",
            actor=actor,
            target=customer,
            data={"customer_number": customer.customer_number, "kind": customer.kind},
        )
        for contact in contacts:
            _add_contact(actor=actor, customer=customer, contact=contact)
    return customer


def update_customer(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    legal_name: str,
    legal_form: str = "",
    street: str,
    postal_code: str,
    city: str,
    country: str = "DE",
    billing_name: str = "",
    billing_street: str = "",
    billing_postal_code: str = "",
    billing_city: str = "",
    billing_country: str = "",
    vat_id: str = "",
    leitweg_id: str = "",
) -> Customer:
    """Changes the master data (the same checks as for a new customer; the customer number
    stays). The audit entry names the fields that changed."""
    _require(actor)
    data = check_master_data(
        kind=kind,
        is_business=True,
        legal_name=legal_name,
        legal_form=legal_form,
        street=street,
        postal_code=postal_code,
        city=city,
        country=country,
        billing_name=billing_name,
        billing_street=billing_street,
        billing_postal_code=billing_postal_code,
        billing_city=billing_city,
        billing_country=billing_country,
        vat_id=vat_id,
        leitweg_id=leitweg_id,
    )
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        changed = sorted(
            name for name, value in data.fields().items() if getattr(locked, name) != value
        )
        if not changed:
            return locked
        for name, value in data.fields().items():
            setattr(locked, name, value)
        locked.save(update_fields=changed)
        audit.record(
            "customers.customer.changed", actor=actor, target=locked, data={"fields": changed}
        )
    return locked


def add_contact(*, actor: User, customer: Customer, contact: NewContact) -> CustomerContact:
    """A new contact of ``customer``; with ``login`` a user with the role customer contact
    and a mail with a link to choose the password."""
    _require(actor)
    with transaction.atomic():
        return _add_contact(actor=actor, customer=customer, contact=contact)


def _add_contact(*, actor: User, customer: Customer, contact: NewContact) -> CustomerContact:
    name = _text(contact.name, code="contact_name", message=_("Please enter the contact's name."))
    try:
        address = normalize_email(contact.email)
    except DomainError as exc:
        raise DomainError(exc.message, code="contact_email") from exc
    user = None
    if contact.login:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    address,
                    None,
                    display_name=name[:80],
                    role=Role.CUSTOMER_CONTACT,
                    organization=None,
                    email_confirmed_at=clock.now(),
                )
        except IntegrityError as exc:
            raise DomainError(
                _("This address has an account already."), code="contact_email"
            ) from exc
    record = CustomerContact.objects.create(
        customer=customer,
        user=user,
        name=name,
        function=" ".join(contact.function.split()),
        email=address,
        phone=" ".join(contact.phone.split()),
    )
    audit.record(
        "customers.contact.added",
        actor=actor,
        target=record,
        data={"customer": customer.customer_number, "login": user is not None},
    )
    if user is not None:
        queue_mail(
            template="customers/contact_invitation",
            recipient=user,
            context={"customer": customer, "password_url": _password_link(user)},
        )
    return record


def _password_link(user: User) -> str:
    return settings.SITE_URL + reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def open_organization_for_customer(
    *, actor: User, customer: Customer, name: str, admin_email: str, admin_name: str
) -> Organization:
    """Opens an organization of the consultation platform for ``customer`` (with the
    invitation of its first admin) and links it to the customer, in one transaction."""
    _require(actor)
    with transaction.atomic():
        organization, _invitation = operator_services.open_organization(
            actor=actor, name=name, admin_email=admin_email, admin_name=admin_name
        )
        link = CustomerOrganization.objects.create(customer=customer, organization=organization)
        audit.record(
            "customers.organization.linked",
            actor=actor,
            target=link,
            organization=organization,
            data={"customer": customer.customer_number},
        )
    return organization


# --- fixed IDs for room systems (P-OP-8) -----------------------------------------------------

# How often an allocation tries again when another one took the same number at the same moment.
FIXED_ID_ATTEMPTS = 20


def allocate_fixed_id(*, actor: User, customer: Customer) -> FixedId:
    """A new H.323 ID and SIP URI for ``customer``: the next number above the highest ever
    allocated (released numbers are never handed out again). Two allocations at the same
    moment cannot get the same number: the unique constraint refuses the second, which tries
    the next one. Refuses with ``DomainError`` (code ``range_exhausted``) when the configured
    range is used up; nothing is written then."""
    _require(actor)
    start = int(settings.FIXED_ID_RANGE_START)
    end = int(settings.FIXED_ID_RANGE_END)
    prefix = str(settings.FIXED_ID_H323_PREFIX)
    domain = str(settings.FIXED_ID_SIP_DOMAIN)
    with transaction.atomic():
        for _attempt in range(FIXED_ID_ATTEMPTS):
            highest = FixedId.objects.aggregate(highest=Max("number"))["highest"]
            number = start if highest is None else max(start, highest + 1)
            if number > end:
                raise DomainError(
                    _(
                        "No H.323 ID is left: all numbers from %(start)s to %(end)s have been "
                        "allocated. Please widen the range (FIXED_ID_RANGE_END)."
                    )
                    % {"start": start, "end": end},
                    code="range_exhausted",
                )
            h323_id = f"{prefix}{number}"
            try:
                with transaction.atomic():
                    fixed_id = FixedId.objects.create(
                        customer=customer,
                        number=number,
                        h323_id=h323_id,
                        sip_uri=f"sip:{h323_id}@{domain}",
                        allocated_at=clock.now(),
                    )
            except IntegrityError:
                continue  # taken at the same moment: try the next number
            audit.record(
                "customers.fixed_id.allocated",
                actor=actor,
                target=fixed_id,
                data={
                    "customer": customer.customer_number,
                    "h323_id": fixed_id.h323_id,
                    "sip_uri": fixed_id.sip_uri,
                },
            )
            return fixed_id
    raise DomainError(
        _("The H.323 ID could not be allocated just now. Please try again."), code="busy"
    )


def release_fixed_id(*, actor: User, fixed_id: FixedId) -> FixedId:
    """Marks ``fixed_id`` as released. The row stays, so that its number is never handed out
    again; an ID released before is refused with ``DomainError``."""
    _require(actor)
    with transaction.atomic():
        locked = FixedId.objects.select_for_update().select_related("customer").get(pk=fixed_id.pk)
        if locked.released_at is not None:
            raise DomainError(
                _("This H.323 ID has been released already."), code="already_released"
            )
        locked.released_at = clock.now()
        locked.save(update_fields=["released_at"])
        audit.record(
            "customers.fixed_id.released",
            actor=actor,
            target=locked,
            data={"customer": locked.customer.customer_number, "h323_id": locked.h323_id},
        )
    return locked
