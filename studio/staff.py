"""Staff access: the moderator and support groups, and read-only "view the studio as this shop".

Groups are kept in step with `STAFF_GROUPS` after every `migrate` (StudioConfig.ready), so a
deployment never has to click permissions together. A superuser adds staff users to them.

Viewing as a shop is a session state set by `start_view_as` (an audited action with a reason).
While it lasts, CurrentShopMiddleware makes the shop current with a viewer's rights, refuses every
unsafe request outside the admin, shows a banner on every page and notes each page opened; the
pages go into the audit row written when it ends (stopped, expired, or the permission is gone).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from studio import audit
from studio.models import Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.contrib.sessions.backends.base import SessionBase

log = logging.getLogger("studio.audit")

MODERATORS = "Moderators"
SUPPORT = "Support"

_VIEW = [
    "studio.view_shop",
    "studio.view_membership",
    "studio.view_auditentry",
    "generations.view_asset",
]
# What each group may do, as "app_label.codename". Moderators review images and never see or
# move money; support investigates and acts on shops, keys, jobs and credits.
STAFF_GROUPS: dict[str, list[str]] = {
    MODERATORS: [
        *_VIEW,
        "generations.view_moderationitem",
        "generations.moderate_asset",
        "generations.view_assetreport",
        "studio.set_gallery_review",
    ],
    SUPPORT: [
        *_VIEW,
        "studio.view_invitation",
        "studio.view_ledgerentry",
        "studio.view_apikey",
        "studio.view_sandboxclaim",
        "studio.suspend_shop",
        "studio.view_shop_as",
        "studio.override_rate_limit",
        "studio.grant_credits",
        "studio.revoke_apikey",
        "auth.view_user",
        "generations.view_job",
        "generations.retry_job",
        "generations.cancel_job",
        "generations.view_preset",
        "generations.view_assetreport",
        "generations.view_webhookendpoint",
        "generations.view_webhookdelivery",
        "generations.view_post",
        "mockups.view_listing",
        "mockups.view_order",
        "mockups.view_producttemplate",
    ],
}

VIEW_AS_KEY = "staff_view_as"
VIEW_AS_MAX_PAGES = 200


def sync_staff_groups(**kwargs: Any) -> None:
    """Create the staff groups and set exactly their permissions (a post_migrate receiver)."""
    every = {p for perms in STAFF_GROUPS.values() for p in perms}
    found = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.filter(
            content_type__app_label__in={p.split(".", 1)[0] for p in every}
        ).values_list("pk", "content_type__app_label", "codename")
    }
    if not every <= found.keys():
        return  # some app's permissions are not created yet; its own post_migrate comes later
    for name, perms in STAFF_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([found[p] for p in perms])


# --- view the studio as a shop -----------------------------------------------------------------------


class ViewAsError(ValueError):
    pass


def may_view_as(user: AbstractBaseUser | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("studio.view_shop_as")
    )


def start_view_as(
    session: SessionBase, user: AbstractBaseUser, shop: Shop, *, reason: str
) -> dict[str, Any]:
    """Begin a read-only staff view of `shop` in this session (audited, with a reason)."""
    if not may_view_as(user):
        raise PermissionDenied("Only staff with the view-as permission can view a shop's studio.")
    reason = (reason or "").strip()
    if not reason:
        raise ViewAsError("Say why you need to see this shop's studio (a ticket, a report).")
    if session.get(VIEW_AS_KEY):
        stop_view_as(session, user, why="switched to another shop")
    now = timezone.now()
    with transaction.atomic():
        entry = audit.record(user, "shop.view_as.start", shop, reason=reason)
    state = {
        "shop": shop.pk,
        "entry": entry.pk,
        "started": now.isoformat(),
        "expires": (now + timedelta(minutes=settings.VIEW_AS_MINUTES)).isoformat(),
        "reason": reason,
        "pages": [],
    }
    session[VIEW_AS_KEY] = state
    return state


def stop_view_as(
    session: SessionBase, user: AbstractBaseUser | None, *, why: str = "stopped"
) -> None:
    """End the view (if any) and write the pages seen into the audit trail."""
    state = session.pop(VIEW_AS_KEY, None)
    if not state:
        return
    shop = Shop.objects.filter(pk=state.get("shop")).first() or Shop(pk=state.get("shop"))
    pages = list(state.get("pages") or [])
    with transaction.atomic():
        audit.record(
            user if user is not None and user.is_authenticated else None,
            "shop.view_as.end",
            shop,
            before={"started": state.get("started"), "reason": state.get("reason", "")},
            after={"ended": timezone.now().isoformat(), "pages": pages},
            reason=why,
        )


def current_view_as(
    session: SessionBase, user: AbstractBaseUser | None
) -> tuple[Shop, dict[str, Any]] | None:
    """The shop being viewed in this session, or None; ends a view that expired or whose user
    lost the permission."""
    state = session.get(VIEW_AS_KEY)
    if not state:
        return None
    if not may_view_as(user):
        stop_view_as(session, user, why="ended: the user may no longer view shops")
        return None
    try:
        expires = datetime.fromisoformat(state["expires"])
    except (KeyError, TypeError, ValueError):
        expires = timezone.now()
    if expires <= timezone.now():
        stop_view_as(session, user, why="ended: expired")
        return None
    shop = Shop.objects.filter(pk=state.get("shop")).first()
    if shop is None:
        stop_view_as(session, user, why="ended: the shop no longer exists")
        return None
    return shop, state


def note_page(session: SessionBase, state: dict[str, Any], path: str, method: str) -> None:
    """Remember a page opened during the view (written to the audit trail when it ends)."""
    pages = state.setdefault("pages", [])
    if len(pages) < VIEW_AS_MAX_PAGES:
        pages.append(f"{timezone.now():%H:%M:%S} {method} {path}"[:300])
        session[VIEW_AS_KEY] = state  # reassigned so the session notices the change
    log.info("staff view-as page %s %s (audit entry %s)", method, path, state.get("entry"))
