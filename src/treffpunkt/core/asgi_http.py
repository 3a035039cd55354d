"""Django's ASGI handler, with each request's middleware and view in one worker thread.

Django runs a request's middleware chain in the event loop, switching to a worker thread for
each stretch of sync-only middleware and again for the (sync) view: three switches per
request here, since WhiteNoise and two of ours are sync-only. Every view of Treffpunkt is
sync and every middleware that reads the database does so in sync code, so making the
middleware async would not remove a switch but add one per query. Instead the whole chain
runs in sync mode, in the request's own worker thread: one switch per request (issue 15,
measured with ``bench/booking_http.py``). WebSockets are not affected: they go through
Channels.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class OneThreadASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # thread_sensitive: the request's own thread (Django gives each request a
        # ThreadSensitiveContext), the same one its database connection lives in.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
