"""The public URLs of a shop's stored files, and which of the shop's assets a URL names.

One rule for the API, mockups, webhooks, chat and pages. `STORAGE_PUBLIC_ORIGIN` is the public
*base URL* of the stored files (it may contain `{shop}` and a path): a file's URL is that base +
"/" + its storage name, on any storage. Unset, a file's URL is the storage's own (S3, or an
absolute `MEDIA_URL`), or this site's origin + `MEDIA_URL` for local files.

A URL names one of the shop's files when it lies under one of the shop's storage prefixes: the
public base, the storage's own base, this site's origin + `MEDIA_URL`, and (local storage with
`STORAGE_PUBLIC_ORIGIN` set) that origin + `MEDIA_URL`, the shape the API handed out before
STORAGE_PUBLIC_ORIGIN was read as a base URL, so links already shared keep working.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.http import HttpRequest
from django.utils.encoding import filepath_to_uri

from generations.models import Asset
from studio.models import Shop


def public_base(shop: Shop) -> str:
    """STORAGE_PUBLIC_ORIGIN for this shop (`{shop}` filled in, no trailing slash), or ""."""
    origin = getattr(settings, "STORAGE_PUBLIC_ORIGIN", "") or ""
    return origin.replace("{shop}", shop.slug).rstrip("/")


def site_origin(request: HttpRequest | None) -> str:
    """scheme://host of the request being answered; SITE_URL outside a request (webhooks)."""
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return settings.SITE_URL


def normalise_origin(url: str) -> str:
    """scheme://host[:port] in lower case with the default port dropped; "" if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def _storage() -> Storage:
    return Asset._meta.get_field("file").storage


def _absolute(url: str) -> bool:
    return url.startswith(("http://", "https://"))


# What filepath_to_uri (quote with safe="/~!*()'") returns unchanged.
_URI_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-~/!*()']*\Z")


def _quoted(name: str) -> str:
    # Stored names are usually made of characters filepath_to_uri leaves alone.
    path = name if _URI_SAFE_NAME.match(name) else filepath_to_uri(name)
    return path.lstrip("/")


class FileUrls:
    """Absolute public URLs of a shop's stored files, for one request (or none: SITE_URL).

    Built from stored names: the base is worked out once, and on the public base or the
    filesystem storage a URL is that base plus the quoted name, without a FieldFile or a storage
    call per file (the hot API reads list many). Other storages (S3) are asked for each URL.
    """

    def __init__(self, shop: Shop, request: HttpRequest | None = None) -> None:
        self.storage = _storage()
        self.origin = site_origin(request)
        self.base: str | None = None  # names are joined to this; None: ask the storage
        public = public_base(shop)
        if public:
            self.base = public + "/"
        # Exactly the filesystem storage: a subclass may build its URLs differently.
        elif self.storage.__class__ is FileSystemStorage and self.storage.base_url is not None:
            base_url = self.storage.base_url
            self.base = base_url if _absolute(base_url) else self.origin + base_url

    def __call__(self, name: str | None) -> str:
        if not name:
            return ""
        if self.base is not None:
            path = _quoted(name)
            # urljoin would also resolve dot segments; stored names have none, but stay exact.
            if "/." not in "/" + path:
                return self.base + path
            return urljoin(self.base, path)
        url = self.storage.url(name)
        return url if _absolute(url) else self.origin + url


def file_url(shop: Shop, field_file: Any, request: HttpRequest | None = None) -> str:
    """The public URL of a stored file (a FieldFile or a storage name); "" for no file."""
    name = getattr(field_file, "name", field_file)
    return FileUrls(shop, request)(name) if name else ""


def asset_url(asset: Asset, request: HttpRequest | None = None) -> str:
    return file_url(asset.shop, asset.file, request)


def storage_prefixes(shop: Shop, request: HttpRequest | None) -> list[tuple[str, str]]:
    """(origin, path prefix ending in "/") pairs under which the shop's files are served; the
    first is where `FileUrls` puts them."""
    prefixes: list[tuple[str, str]] = []
    storage = _storage()
    media = settings.MEDIA_URL
    if storage.__class__ is FileSystemStorage and storage.base_url is not None:
        media = storage.base_url  # where FileUrls puts local files (MEDIA_URL unless configured)
    public = public_base(shop)
    if public:
        prefixes.append((normalise_origin(public), urlsplit(public).path.rstrip("/") + "/"))
    if not isinstance(storage, FileSystemStorage):
        # S3-compatible storage: its own file URLs are the shop's storage too (the bucket's
        # endpoint or custom domain), whether or not STORAGE_PUBLIC_ORIGIN is set.
        probe = storage.url("shops/x")
        path = urlsplit(probe).path
        prefixes.append((normalise_origin(probe), path[: -len("shops/x")] or "/"))
    if _absolute(media):
        prefixes.append((normalise_origin(media), urlsplit(media).path.rstrip("/") + "/"))
    else:
        media_path = "/" + media.strip("/") + "/" if media.strip("/") else "/"
        if public and isinstance(storage, FileSystemStorage):
            # Public base + MEDIA_URL: what the API answered before this module (see above).
            legacy = urlsplit(public).path.rstrip("/") + media_path
            prefixes.append((normalise_origin(public), legacy))
        prefixes.append((normalise_origin(site_origin(request)), media_path))
    return prefixes


def files_base(shop: Shop, request: HttpRequest | None) -> str:
    """The URL prefix of the shop's files, e.g. https://shop.storage.example.com/ (pages)."""
    origin, path = storage_prefixes(shop, request)[0]
    return origin + path


@dataclass(frozen=True)
class NamedFile:
    """A URL on one of the shop's storage prefixes, as the storage name it names."""

    name: str  # e.g. shops/<slug>/assets/<hex>/original.png
    shop_slug: str = ""  # from an asset path shops/<slug>/assets/<id>/<file>; "" otherwise
    asset_id: uuid.UUID | None = None


def named_file(shop: Shop, url: str, request: HttpRequest | None) -> NamedFile | None:
    """The stored file `url` names when it lies under one of the shop's storage prefixes; None
    when it is anywhere else (another origin or path: not the shop's storage)."""
    origin = normalise_origin(url)
    if not origin:
        return None
    path = unquote(urlsplit(url).path)
    found: NamedFile | None = None
    for own_origin, prefix in storage_prefixes(shop, request):
        if origin == own_origin and path.startswith(prefix):
            named = _parse_name(path[len(prefix) :])
            if named.asset_id is not None:
                return named
            # Prefixes may nest (a base at "/" and the old base + MEDIA_URL): try them all.
            found = found or named
    return found


def _parse_name(name: str) -> NamedFile:
    parts = name.split("/")
    # shops/<slug>/assets/<hex>/<file>
    if len(parts) != 5 or parts[0] != "shops" or parts[2] != "assets" or not parts[4]:
        return NamedFile(name)
    try:
        ident = uuid.UUID(hex=parts[3])
    except ValueError:
        return NamedFile(name)
    return NamedFile(name, parts[1], ident)


def asset_of(
    shop: Shop, named: NamedFile, *, only: tuple[str, ...] = (), thumbnails: bool = False
) -> Asset | None:
    """This shop's asset whose stored original (or, with `thumbnails`, thumbnail) is `named`;
    None for another shop's file, a name that is no asset's, or an id that is not this shop's."""
    if named.asset_id is None or named.shop_slug != shop.slug:
        return None
    qs = Asset.objects.filter(id=named.asset_id, shop=shop).order_by()
    if only:
        qs = qs.only(*only)
    asset = qs.first()
    if asset is None:
        return None
    names = {asset.file.name, asset.thumbnail.name} if thumbnails else {asset.file.name}
    if named.name not in names:
        return None
    asset.shop = shop
    return asset


def named_asset(shop: Shop, url: str, request: HttpRequest | None) -> Asset | None:
    """The shop's own asset when `url` is the public URL of its stored original or thumbnail
    (an API input: the thumbnail stands for its asset), else None."""
    named = named_file(shop, url, request)
    return asset_of(shop, named, thumbnails=True) if named is not None else None
