"""The second factor at login: a code from an authenticator app (TOTP), or a one-time
recovery code when the phone is gone.

Who must have one is decided by ``second_factor_required`` alone; anyone else may switch it on
from the profile. Whoever has one must prove it in each new session before any page works
(``SecondFactorMiddleware``). django-otp keeps the devices and their throttling; these
functions are the only way they change, each atomic, with an audit entry for every change of
state (switched on, codes renewed, a recovery code used, switched off, reset by the operator).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from treffpunkt.accounts.models import Role, User
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError

ISSUER = "Treffpunkt"
RECOVERY_CODE_COUNT = 10
# What the device rows are called (django-otp wants a name; nobody sees it but the admin).
APP_DEVICE_NAME = "authenticator app"
RECOVERY_DEVICE_NAME = "recovery codes"


def second_factor_required(user: User) -> bool:
    """The one place that says who may not work without a second factor: operator staff today.

    A business customer's "all our contacts need it" policy plugs in here.
    """
    return user.role == Role.OPERATOR


def has_second_factor(user: User) -> bool:
    """Whether the user has a confirmed authenticator app (recovery codes alone do not count)."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


async def ahas_second_factor(user: User) -> bool:
    return bool(await TOTPDevice.objects.filter(user=user, confirmed=True).aexists())


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def session_is_verified(user: User) -> bool:
    """Whether this request's session proved a second factor (django-otp's OTPMiddleware puts
    the device that did on the user; None when none did or it is gone)."""
    return getattr(user, "otp_device", None) is not None


def mark_session_verified(request: HttpRequest, device: Any) -> None:
    """This session has proved the second factor. The session gets a new key, so that a key
    seen before the proof is worth no more than the password alone."""
    from django_otp import login as otp_login

    otp_login(request, device)
    request.session.cycle_key()


# --- the secret and its QR code ---------------------------------------------------------------


def new_secret() -> str:
    """A fresh random key, hex as django-otp stores it (20 bytes, as RFC 4226 recommends)."""
    return str(random_hex(20))


def secret_for_people(key: str) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    text = base64.b32encode(bytes.fromhex(key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def key_from_secret(secret: str) -> str:
    """The hex key of a base32 secret as people write it (spaces and case do not matter)."""
    text = secret.replace(" ", "").upper()
    text += "=" * (-len(text) % 8)
    try:
        return base64.b32decode(text).hex()
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a base32 secret") from exc


def setup_address(*, user: User, key: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    secret = secret_for_people(key).replace(" ", "")
    label = quote(f"{ISSUER}:{user.email}")
    query = urlencode(
        {"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": 6, "period": 30}
    )
    return f"otpauth://totp/{label}?{query}"


def qr_code_svg(address: str, *, title: str) -> str:
    """The QR code as inline SVG markup, drawn here: the secret never leaves the server."""
    import segno

    code = segno.make(address, error="m")
    return str(code.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=title))


# --- entering a code --------------------------------------------------------------------------


def _normalized(code: str) -> str:
    return code.replace(" ", "").replace("-", "").strip().lower()


def _is_app_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _wait_message(until: datetime | None) -> str:
    seconds = max(1, math.ceil((until - clock.now()).total_seconds())) if until else 1
    return ngettext(
        "Too many wrong codes. For your protection, please wait %(seconds)d second and "
        "then try again.",
        "Too many wrong codes. For your protection, please wait %(seconds)d seconds and "
        "then try again.",
        seconds,
    ) % {"seconds": seconds}


def _wrong_code() -> DomainError:
    return DomainError(
        _(
            "This code is not right. Enter the 6 digits your app shows now, or one of your "
            "recovery codes."
        ),
        code="wrong_code",
    )


def _check(device: Any, code: str) -> DomainError | None:
    """Try ``code`` on ``device`` (locked for update): ``None`` when it fits, else the error.

    The caller raises only after the transaction: a failed try must stay counted, or the
    throttling would forget it.
    """
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return DomainError(_wait_message((details or {}).get("locked_until")), code="throttled")
    if not device.verify_token(code):
        return _wrong_code()
    return None


@dataclass(frozen=True)
class Proof:
    """A code that fitted: the device that took it (for the session) and, after a recovery
    code, how many are left."""

    device: Any
    recovery_codes_left: int | None


def verify_second_factor(*, user: User, code: str) -> Proof:
    """Check a code from the app or a recovery code. A recovery code works once only.

    Wrong codes slow further tries down (django-otp doubles the wait after each one, per
    device); while the wait lasts even a right code is refused.
    """
    entered = _normalized(code)
    if not entered:
        raise DomainError(_("Please enter the code."), code="wrong_code")
    model = TOTPDevice if _is_app_code(entered) else StaticDevice
    left: int | None = None
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        failure = _wrong_code() if device is None else _check(device, entered)
        if failure is None and model is StaticDevice:
            left = int(device.token_set.count())
            audit.record(
                "accounts.second_factor.recovery_code_used",
                actor=user,
                target=user,
                organization=user.organization,
                data={"codes_left": left},
            )
    if failure is not None:
        raise failure
    return Proof(device=device, recovery_codes_left=left)


# --- switching on, renewing, switching off ----------------------------------------------------


def _fits_new_key(key: str, code: str) -> int | None:
    """The time step ``code`` belongs to, if it fits ``key`` (one step of clock skew allowed)."""
    entered = _normalized(code)
    if not _is_app_code(entered):
        return None
    totp = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6, drift=0)
    totp.time = clock.now().timestamp()
    if not totp.verify(int(entered), tolerance=1):
        return None
    return int(totp.t())


def _new_recovery_codes(user: User) -> list[str]:
    # The same device with new codes: a session that logged in with a recovery code stays
    # verified (django-otp remembers the device, not the code).
    device, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _number in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def enable_second_factor(*, user: User, key: str, code: str) -> tuple[Any, list[str]]:
    """Switch the second factor on with the key the user's app was given, once the app proves
    it has the key by a current code. Returns the app's device and ten new recovery codes,
    for the one page that shows them."""
    step = _fits_new_key(key, code)
    if step is None:
        raise DomainError(
            _(
                "This code does not fit. Check that the app shows a code for Treffpunkt and "
                "that the time on your phone is right, then enter the code it shows now."
            ),
            code="wrong_code",
        )
    with transaction.atomic():
        # Locks the user row: two tabs confirming at once give one device, not two.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if TOTPDevice.objects.filter(user=locked, confirmed=True).exists():
            raise DomainError(_("The second factor is already switched on."), code="exists")
        TOTPDevice.objects.filter(user=locked).delete()
        device = TOTPDevice.objects.create(
            user=locked,
            name=APP_DEVICE_NAME,
            key=key,
            confirmed=True,
            # The code just used cannot be used again to verify a session.
            last_t=step,
        )
        codes = _new_recovery_codes(locked)
        audit.record(
            "accounts.second_factor.enabled",
            actor=user,
            target=user,
            organization=user.organization,
        )
    return device, codes


def renew_recovery_codes(*, user: User, code: str) -> list[str]:
    """Ten new recovery codes for the old ones (all of which stop working), after a current
    code from the app or a recovery code."""
    verify_second_factor(user=user, code=code)
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit.record(
            "accounts.second_factor.recovery_codes_renewed",
            actor=user,
            target=user,
            organization=user.organization,
        )
    return codes


def _remove_devices(user: User) -> int:
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    removed += StaticDevice.objects.filter(user=user).delete()[0]
    return int(removed)


def remove_second_factor(*, user: User, code: str) -> None:
    """The user switches the second factor off (or, when it is required, starts again with a
    new app), after a current code. Sessions that proved the old one lose that proof."""
    verify_second_factor(user=user, code=code)
    with transaction.atomic():
        _remove_devices(user)
        audit.record(
            "accounts.second_factor.removed",
            actor=user,
            target=user,
            organization=user.organization,
            data={"required": second_factor_required(user)},
        )


def reset_second_factor(*, user: User, reason: str, actor: User | None = None) -> bool:
    """For someone who lost both the app and the recovery codes: remove their second factor, so
    that at the next login they set up a new one (or, where not required, log in without).
    Done by the platform's operators after checking the person's identity outside the app."""
    with transaction.atomic():
        removed = _remove_devices(user)
        audit.record(
            "accounts.second_factor.reset",
            actor=actor,
            target=user,
            organization=user.organization,
            data={"reason": reason, "had_second_factor": bool(removed)},
        )
    return bool(removed)


def recovery_code_groups(codes: Sequence[str]) -> list[str]:
    """Recovery codes as shown: two groups of four, easier to copy by hand."""
    return [f"{c[:4]}-{c[4:]}" for c in codes]
