"""ASGI entry point: HTTP and WebSocket in one process (uvicorn)."""

import os
import warnings

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "treffpunkt.settings")
# WhiteNoise hands static files to Django as a file iterator; under ASGI Django reads it in a
# thread and warns each time. Harmless, and noise in the log of every page view.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")
# Django must be set up before the consumers (and the models they import) are loaded.
django.setup(set_prefix=False)

from treffpunkt.core.asgi_http import OneThreadASGIHandler  # noqa: E402

django_asgi_app = OneThreadASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from treffpunkt.accounts.middleware import SecondFactorSocketMiddleware  # noqa: E402
from treffpunkt.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            # A session that has not proved its second factor counts as logged out on sockets.
            AuthMiddlewareStack(SecondFactorSocketMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
