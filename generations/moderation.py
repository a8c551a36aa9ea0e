"""Publishing to the public gallery, users' reports of public images, and staff decisions.

States (`Asset.moderation`) and what they mean for `Asset.is_public` (in the gallery right now):

    unreviewed ──publish──► public at once             (no review required)
               └─publish──► pending ──approve──► approved, public
                                    └─reject───► rejected (never public; reason shown to owners)
    any state ──hide──► hidden: out of the gallery and refused by every public URL (gallery files,
                        /media/ for non-members, mockup URLs, buy pages); owners are told why
    hidden / rejected ──approve──► approved, private (the owner may publish it again)

Review is required when the site (`GALLERY_REQUIRES_REVIEW`) or the shop
(`Shop.gallery_requires_review`) says so. Every staff decision writes an audit row
(studio/audit.py) in the same transaction and resolves the asset's open reports.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone

from generations.models import Asset, AssetReport
from studio import audit, ratelimit
from studio.models import Membership, Role, Shop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

log = logging.getLogger(__name__)

M = Asset.Moderation
NOTE_MAX = 1000
REASON_MAX = 1000

# Sent after commit with `asset_ids` when assets leave public view (hidden): process-local caches
# of resolved mockup assets listen (mockups/actions.py).
assets_taken_down = Signal()


class PublishRefused(Exception):
    """The owner may not publish this image; the message says why (shown to the owner)."""


class ReportRefused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ModerationError(ValueError):
    """A staff decision is missing something it needs (a reason)."""


# --- publishing (owners) --------------------------------------------------------------------------


def review_required(shop: Shop) -> bool:
    return bool(getattr(settings, "GALLERY_REQUIRES_REVIEW", False) or shop.gallery_requires_review)


def _copies_a_refused_image(sha256: str, parent_id: object = None) -> bool:
    """Bytes staff hid or rejected anywhere, or an image derived from one: re-uploading or
    editing a refused image must not walk around the decision, so it goes to review."""
    refused = Asset.objects.filter(moderation__in=[M.HIDDEN, M.REJECTED])
    match = Q(sha256=sha256) if sha256 else Q(pk__in=[])
    if parent_id is not None:
        match |= Q(pk=parent_id)
    return refused.filter(match).exists()


def initial_publication(
    shop: Shop, requested: bool, *, sha256: str = "", parent_id: object = None
) -> tuple[bool, str]:
    """(is_public, moderation) for a new asset whose maker asked for it to be public or not."""
    if not requested:
        return False, M.UNREVIEWED
    if review_required(shop) or _copies_a_refused_image(sha256, parent_id):
        return False, M.PENDING
    return True, M.UNREVIEWED


def refusal_message(asset: Asset) -> str:
    if asset.moderation == M.HIDDEN:
        return f"Staff hid this image from public view: {asset.moderation_reason}"
    if asset.moderation == M.REJECTED:
        return f"Staff did not approve this image for the gallery: {asset.moderation_reason}"
    return ""


@dataclass
class PublishOutcome:
    published: list[Asset] = field(default_factory=list)
    pending: list[Asset] = field(default_factory=list)
    private: list[Asset] = field(default_factory=list)
    refused: list[tuple[Asset, str]] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.published:
            parts.append(f"{_items(len(self.published))} now in the public gallery.")
        if self.pending:
            parts.append(
                f"{_items(len(self.pending))} waiting for staff review before the gallery shows "
                f"{'it' if len(self.pending) == 1 else 'them'}."
            )
        if self.private:
            parts.append(f"{_items(len(self.private))} now private to this shop.")
        if self.refused:
            parts.append(
                f"{_items(len(self.refused))} not published: " + self.refused[0][1]
                if len(self.refused) == 1
                else f"{_items(len(self.refused))} not published: staff rejected or hid them."
            )
        return " ".join(parts)


def _items(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def set_publication(
    assets: Iterable[Asset], public: bool, *, by: AbstractBaseUser | None = None
) -> PublishOutcome:
    """Publish (through review when required) or unpublish the assets; the caller checked that
    `by` may manage them. The given instances are updated in place."""
    given = {a.pk: a for a in assets}
    outcome = PublishOutcome()
    if not given:
        return outcome
    with transaction.atomic():
        rows = Asset.objects.select_for_update().select_related("shop").filter(pk__in=list(given))
        for asset in rows:
            was = (asset.is_public, asset.moderation)
            if public:
                message = refusal_message(asset)
                if message:
                    outcome.refused.append((asset, message))
                    continue
                if asset.is_public or asset.moderation == M.APPROVED:
                    asset.is_public = True
                    outcome.published.append(asset)
                elif (
                    asset.moderation == M.PENDING
                    or review_required(asset.shop)
                    or _copies_a_refused_image(asset.sha256, asset.parent_id)
                ):
                    asset.moderation = M.PENDING
                    outcome.pending.append(asset)
                else:
                    asset.is_public = True
                    outcome.published.append(asset)
            else:
                asset.is_public = False
                if asset.moderation == M.PENDING:  # withdrawn before anyone looked at it
                    asset.moderation = M.UNREVIEWED
                outcome.private.append(asset)
            if (asset.is_public, asset.moderation) != was:
                Asset.objects.filter(pk=asset.pk).update(
                    is_public=asset.is_public, moderation=asset.moderation
                )
    for done in (
        outcome.published,
        outcome.pending,
        outcome.private,
        [a for a, _ in outcome.refused],
    ):
        for row in done:
            mine = given[row.pk]
            mine.is_public, mine.moderation = row.is_public, row.moderation
            mine.moderation_reason = row.moderation_reason
    return outcome


def gallery_assets() -> QuerySet[Asset]:
    """Assets the public gallery may show: public ones of shops that are not suspended."""
    qs = Asset.objects.filter(is_public=True)
    # Suspensions are rare: a short id list keeps the gallery's partial index in use (no join).
    suspended = list(Shop.objects.filter(suspended_at__isnull=False).values_list("id", flat=True))
    return qs.exclude(shop_id__in=suspended) if suspended else qs


# --- reports (any signed-in user) -----------------------------------------------------------------


def report_asset(
    asset_id: uuid.UUID | str, *, reporter: AbstractBaseUser, reason: str, note: str = ""
) -> AssetReport:
    """Record a report of a public image. Rate limited per user (REPORTS_PER_HOUR)."""
    try:
        ident = uuid.UUID(str(asset_id))
    except ValueError:
        raise ReportRefused("No such public image.", 404) from None
    asset = gallery_assets().filter(id=ident).first()
    if asset is None:
        raise ReportRefused("No such public image.", 404)
    if reason not in AssetReport.Reason.values:
        raise ReportRefused("Choose why you are reporting this image.", 400)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ReportRefused(f"The note is longer than {NOTE_MAX} characters.", 400)
    if AssetReport.objects.filter(
        asset=asset, reporter=reporter, status=AssetReport.Status.OPEN
    ).exists():
        raise ReportRefused("You already reported this image; staff will look at it.", 409)
    limit = int(getattr(settings, "REPORTS_PER_HOUR", 10))
    decision = ratelimit.hit(f"report:{reporter.pk}", limit, 3600)
    if not decision.allowed:
        minutes = max(1, round(decision.retry_after / 60))
        raise ReportRefused(
            f"You have sent {limit} reports in the last hour; you can report again in about "
            f"{minutes} minute{'s' if minutes != 1 else ''}.",
            429,
        )
    try:
        with transaction.atomic():
            return AssetReport.objects.create(
                asset=asset, reporter=reporter, reason=reason, note=note
            )
    except IntegrityError:  # the same user's report raced in from another tab
        raise ReportRefused(
            "You already reported this image; staff will look at it.", 409
        ) from None


# --- staff decisions ---------------------------------------------------------------------------------


@dataclass
class Decision:
    changed: list[Asset] = field(default_factory=list)
    skipped: list[tuple[Asset, str]] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        text = f"{verb} {_items(len(self.changed))}."
        if self.skipped:
            text += " Left alone: " + "; ".join(
                f"{a.id.hex[:8]} ({why})" for a, why in self.skipped[:10]
            )
            if len(self.skipped) > 10:
                text += f"; and {len(self.skipped) - 10} more"
            text += "."
        return text


_STATE_FIELDS = ("moderation", "is_public", "moderation_reason")


def _decide(assets: Iterable[Asset], *, by: AbstractBaseUser, reason: str, verb: str) -> Decision:
    ids = [a.pk for a in assets]
    outcome = Decision()
    now = timezone.now()
    with transaction.atomic():
        rows = Asset.objects.select_for_update().select_related("shop").filter(pk__in=ids)
        for asset in rows.order_by("created_at", "id"):
            open_reports = AssetReport.objects.filter(asset=asset, status=AssetReport.Status.OPEN)
            has_reports = open_reports.exists()
            before = audit.snapshot(asset, _STATE_FIELDS)
            if verb == "approve":
                if asset.moderation == M.APPROVED and not has_reports:
                    outcome.skipped.append((asset, "already approved"))
                    continue
                if asset.moderation == M.PENDING:
                    asset.is_public = True
                elif asset.moderation in (M.HIDDEN, M.REJECTED):
                    asset.is_public = False  # restored; the owner decides to publish again
                asset.moderation, asset.moderation_reason = M.APPROVED, reason
                report_status = AssetReport.Status.DISMISSED
            elif verb == "reject":
                if asset.moderation in (M.REJECTED, M.HIDDEN):
                    outcome.skipped.append(
                        (asset, f"already {asset.get_moderation_display().lower()}")
                    )
                    continue
                asset.moderation, asset.moderation_reason, asset.is_public = (
                    M.REJECTED,
                    reason,
                    False,
                )
                report_status = AssetReport.Status.UPHELD
            else:  # hide
                if asset.moderation == M.HIDDEN:
                    outcome.skipped.append((asset, "already hidden"))
                    continue
                asset.moderation, asset.moderation_reason, asset.is_public = M.HIDDEN, reason, False
                report_status = AssetReport.Status.UPHELD
            asset.moderated_at, asset.moderated_by = now, by
            asset.save(update_fields=[*_STATE_FIELDS, "moderated_at", "moderated_by"])
            resolved = open_reports.update(status=report_status, resolved_at=now, resolved_by=by)
            after = {**audit.snapshot(asset, _STATE_FIELDS), "reports_resolved": resolved}
            audit.record(by, f"asset.{verb}", asset, before=before, after=after, reason=reason)
            outcome.changed.append(asset)
        if outcome.changed:
            changed = list(outcome.changed)
            transaction.on_commit(lambda: _notify_owners(changed, verb))
            if verb == "hide":
                # Now and again after commit: a lookup in between may cache the row from before.
                hidden_ids = [a.pk for a in changed]
                assets_taken_down.send(sender=Asset, asset_ids=hidden_ids)
                transaction.on_commit(
                    lambda: assets_taken_down.send(sender=Asset, asset_ids=hidden_ids)
                )
    return outcome


def _required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError("Give a reason: the shop's owners see it.")
    if len(reason) > REASON_MAX:
        raise ModerationError(f"The reason is longer than {REASON_MAX} characters.")
    return reason


def approve(assets: Iterable[Asset], *, by: AbstractBaseUser, reason: str = "") -> Decision:
    """Approve for the gallery (pending ones become public) and dismiss open reports."""
    return _decide(assets, by=by, reason=(reason or "").strip()[:REASON_MAX], verb="approve")


def reject(assets: Iterable[Asset], *, by: AbstractBaseUser, reason: str) -> Decision:
    """Keep out of the gallery, with a reason the owners see; uphold open reports."""
    return _decide(assets, by=by, reason=_required(reason), verb="reject")


def hide(assets: Iterable[Asset], *, by: AbstractBaseUser, reason: str) -> Decision:
    """Take down: out of the gallery and every public URL at once; owners are told why."""
    return _decide(assets, by=by, reason=_required(reason), verb="hide")


def set_review_policy(
    shops: Iterable[Shop], required: bool, *, by: AbstractBaseUser, reason: str
) -> list[Shop]:
    """Require (or stop requiring) review before this shop's images reach the gallery."""
    reason = _required(reason)
    done = []
    with transaction.atomic():
        for shop in Shop.objects.select_for_update().filter(pk__in=[s.pk for s in shops]):
            if shop.gallery_requires_review == required:
                continue
            before = audit.snapshot(shop, ["gallery_requires_review"])
            shop.gallery_requires_review = required
            shop.save(update_fields=["gallery_requires_review"])
            audit.record(
                by,
                "shop.gallery_review",
                shop,
                before=before,
                after=audit.snapshot(shop, ["gallery_requires_review"]),
                reason=reason,
            )
            done.append(shop)
    return done


_SUBJECTS = {
    "approve": "Approved for the public gallery",
    "reject": "Not approved for the public gallery",
    "hide": "Hidden from public view by staff",
}
_BODIES = {
    "approve": "Staff approved {n} in {shop}. Images that waited for review are in the public "
    "gallery now; restored images are private until you publish them again.",
    "reject": "Staff did not approve {n} in {shop} for the public gallery. They stay in your "
    "library and work everywhere else.",
    "hide": "Staff hid {n} in {shop} from public view. The gallery, mockup URLs and buy pages "
    "no longer show {them}; your shop's members still see {them} in the library.",
}


def _notify_owners(assets: list[Asset], verb: str) -> None:
    """Email each shop's owners (and the image's maker) what was decided and why."""
    by_shop: dict[int, list[Asset]] = defaultdict(list)
    for asset in assets:
        by_shop[asset.shop_id].append(asset)
    for shop_id, items in by_shop.items():
        shop = items[0].shop
        emails = set(
            Membership.objects.filter(shop_id=shop_id, role=Role.OWNER)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
        makers = {a.created_by_id for a in items if a.created_by_id}
        if makers:
            emails |= set(
                Membership.objects.filter(shop_id=shop_id, user_id__in=makers)
                .exclude(user__email="")
                .values_list("user__email", flat=True)
            )
        if not emails:
            continue
        n = _items(len(items)).replace("item", "image")
        body = _BODIES[verb].format(n=n, shop=shop.name, them="it" if len(items) == 1 else "them")
        lines = [body, ""]
        for asset in items:
            link = settings.SITE_URL + reverse("asset_detail", args=[asset.id])
            why = f" Reason: {asset.moderation_reason}" if asset.moderation_reason else ""
            lines.append(f"- {asset.prompt[:80] or asset.get_kind_display()}: {link}{why}")
        try:
            send_mail(f"{_SUBJECTS[verb]}: {n}", "\n".join(lines), None, sorted(emails))
        except Exception:  # a mail outage must not undo a committed decision
            log.exception("could not email the owners of shop %s about %s", shop_id, verb)


# --- files on local storage ---------------------------------------------------------------------------


def media_access(path: str, user: AbstractBaseUser | None) -> str:
    """How /media/<path> may be served: "public", "private" (hidden: members and staff only,
    never cached publicly) or "refuse" (hidden, and the requester is neither)."""
    parts = path.split("/")
    # shops/<slug>/assets/<hex>/<file>
    if len(parts) != 5 or parts[0] != "shops" or parts[2] != "assets":
        return "public"
    try:
        ident = uuid.UUID(hex=parts[3])
    except ValueError:
        return "public"
    shop_id = (
        Asset.objects.filter(id=ident, moderation=M.HIDDEN)
        .values_list("shop_id", flat=True)
        .order_by()
        .first()
    )
    if shop_id is None:
        return "public"
    if user is not None and user.is_authenticated:
        if user.is_staff and user.has_perm("generations.view_asset"):
            return "private"
        if Membership.objects.filter(shop_id=shop_id, user=user).exists():
            return "private"
    return "refuse"
