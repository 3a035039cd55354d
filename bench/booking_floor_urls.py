"""The app's URLconf plus the floor of ``booking_http.py`` (see ``booking_floor_settings``).

``/bench/floor/<type_id>/`` takes the same POST as the booking form (session cookie, CSRF
cookie and field, ``Origin``), passes the same middleware and the same ``member_required``
check as ``booking:request``, runs like it as a sync view, reads one row (the consultation
type's name) and answers 200 with it: what any logged-in page that touches the database costs
on this stack, with nothing of the booking itself (no slot check, no insert, no redirect, no
message in the session).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from treffpunkt import urls as app_urls
from treffpunkt.accounts.permissions import member_required
from treffpunkt.booking.models import ConsultationType


@member_required
@require_POST
def floor(request: HttpRequest, type_id: int) -> HttpResponse:
    name = ConsultationType.objects.filter(pk=type_id).values_list("name", flat=True).first()
    if name is None:
        raise Http404
    return HttpResponse(name, content_type="text/plain; charset=utf-8")


# First, so that resolving it does not walk the app's patterns (and the app's own URLs try
# one pattern more: a failed match of a fixed prefix).
urlpatterns = [path("bench/floor/<int:type_id>/", floor, name="bench_floor"), *app_urls.urlpatterns]

handler400 = app_urls.handler400
handler403 = app_urls.handler403
handler404 = app_urls.handler404
