"""Serves the public mockup URL (/m/<template>) ahead of the page middleware, as WhiteNoise
serves /static/: mockup URLs are key-less, signed or unsigned GETs that use no session, user,
messages, htmx or current shop, and a cached one should cost about what a static file costs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from mockups.views import mockup_image

# The slug converter of mockups/urls.py's route (`m/<slug:template_slug>`).
MOCKUP_PATH = re.compile(r"/m/([-a-zA-Z0-9_]+)")


class MockupUrlMiddleware:
    """Placed right after WhiteNoise. Answers /m/<template> itself (the URL route stays for
    reverse() and for a stack without this middleware) and adds what the skipped middleware
    would have added to such a response: Content-Length (CommonMiddleware) and
    X-Frame-Options (XFrameOptionsMiddleware). Security headers come from SecurityMiddleware,
    which runs before it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.frame_options = getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = MOCKUP_PATH.fullmatch(request.path_info)
        if match is None:
            return self.get_response(request)
        response = mockup_image(request, match[1])
        if not response.streaming and "Content-Length" not in response:
            response["Content-Length"] = str(len(response.content))
        if "X-Frame-Options" not in response:
            response["X-Frame-Options"] = self.frame_options
        return response
