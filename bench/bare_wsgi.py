"""The baseline for `bench_api`: bare Django answering a small JSON view, served by the same
gunicorn command as the studio (no database, no session, no authentication)."""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-not-secret-" + "x" * 40,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def ping(request):
    return JsonResponse({"ok": True, "path": request.path})


urlpatterns = [path("ping", ping)]
application = get_wsgi_application()
