from django.contrib import admin
from django.urls import include, path

from treffpunkt.accounts import views as account_views
from treffpunkt.core import views as core_views

admin.site.site_header = "Treffpunkt"
admin.site.site_title = "Treffpunkt"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("sprache/", account_views.set_language, name="set_language"),
    path("betrieb/protokoll/", core_views.audit_log, name="audit_log"),
    path("betrieb/admin/", admin.site.urls),
    path("", include("treffpunkt.accounts.urls")),
    path("", include("treffpunkt.booking.urls")),
    path("", include("treffpunkt.calls.urls")),
    path("", include("treffpunkt.messaging.urls")),
]

handler400 = "treffpunkt.core.views.bad_request"
handler403 = "treffpunkt.core.views.permission_denied"
handler404 = "treffpunkt.core.views.page_not_found"
# 500 uses Django's default handler, which renders templates/500.html without context.
