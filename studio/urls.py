from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic.base import RedirectView

from studio import views

urlpatterns = [
    # The API routes first: they are the most requested and resolving walks the list in order
    # (no API path is also a page's).
    path("", include("generations.api.urls")),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links; send them to the static file.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/signup/confirm/<str:token>/", views.signup_confirm, name="signup_confirm"),
    # Throttled versions of Django's log-in and reset pages (listed first, so they win).
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("shops/new/", views.shop_create, name="shop_create"),
    path("shops/switch/", views.shop_switch, name="shop_switch"),
    path("shops/settings/", views.shop_settings, name="shop_settings"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.invite, name="invite"),
    path("members/<int:membership_id>/", views.member_update, name="member_update"),
    path("invite/<str:token>/", views.accept_invite, name="accept_invite"),
    path(
        "members/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("usage/", views.usage, name="usage"),
    path("", include("generations.urls")),
    path("", include("generations.scenes.urls")),
    path("", include("mockups.urls")),
]

if not getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""):
    # Local storage: Django serves media itself (files are immutable, content-addressed by id).
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", views.media_file, name="media_file"),
    ]
