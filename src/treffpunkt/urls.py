from django.contrib import admin
from django.http import HttpRequest
from django.urls import include, path

from treffpunkt import views
from treffpunkt.accounts import views as account_views
from treffpunkt.accounts.permissions import Capability, has_capability
from treffpunkt.availability import views as availability_views
from treffpunkt.backoffice.audit_log import AuditLogPage
from treffpunkt.customers import views_advertising as advertising_views
from treffpunkt.portability import views as portability_views

admin.site.site_header = "Treffpunkt"
admin.site.site_title = "Treffpunkt"


def _platform_administration_only(request: HttpRequest) -> bool:
    """The (read-only) Django admin is for operators holding platform administration."""
    user = request.user
    return bool(user.is_active and user.is_staff and has_capability(user, Capability.PLATFORM))


# The default site is configured here, in the composition root, rather than replaced by a
# subclass: every app's admin.py registers on it. mypy refuses assigning to a method.
admin.site.has_permission = _platform_administration_only  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    # For the operator's Prometheus, behind METRICS_TOKEN.
    path("metrics", availability_views.Metrics.as_view(), name="metrics"),
    path("sprache/", account_views.set_language, name="set_language"),
    # The one-click objection in every advertising mail (no sign-in).
    path(
        "werbung/widerspruch/<str:token>/",
        advertising_views.objection,
        name="advertising_objection",
    ),
    # A member's own data: download, delete the account (portability, the top layer).
    path("konto/meine-daten/", portability_views.MemberData.as_view(), name="member_data"),
    path(
        "konto/meine-daten/archiv/",
        portability_views.MemberDataDownload.as_view(),
        name="member_data_download",
    ),
    path("betrieb/admin/", admin.site.urls),
    path("betrieb/", include("treffpunkt.backoffice.urls")),
    # The audit log's name from before the back office, for the links that still use it. Only
    # reversed: the back office's own pattern above answers the address.
    path("betrieb/protokoll/", AuditLogPage.as_view(), name="audit_log"),
    path("kunde/", include("treffpunkt.backoffice.customer_urls")),
    path("", include("treffpunkt.accounts.urls")),
    path("", include("treffpunkt.booking.urls")),
    path("", include("treffpunkt.calls.urls")),
    path("", include("treffpunkt.messaging.urls")),
]

handler400 = "treffpunkt.core.views.bad_request"
handler403 = "treffpunkt.core.views.permission_denied"
handler404 = "treffpunkt.core.views.page_not_found"
# 500 uses Django's default handler, which renders templates/500.html without context.
