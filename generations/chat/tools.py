"""The chat's tools: each is one of the studio's own actions, with validated arguments.

generate_image → generations.actions.submit_generation (charged per image, refunded on failure)
remove_background → generations.operations.submit_operation (charged like the asset page's)
search_products → mockups.products.search_products (free)
build_mockup → mockups.actions.prerender_mockup, a URL the doors build (a fresh render is billed
like a mockup URL's, a cached one is free)
create_listing → mockups.actions.create_listing (free)

Priced tools run as their own jobs (submit charges before work; the job refunds on failure);
the chat turn runs those jobs inline so a single worker can serve a whole turn. Outputs are
plain JSON with ids; the doors turn ids into URLs (generations.chat.present).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generations.actions import ASPECT_RATIOS, MAX_COUNT, GenerationSpec, JobError
from generations.models import Asset, Job
from studio.actions import InsufficientCredits
from studio.models import LedgerEntry

if TYPE_CHECKING:
    from generations.chat.turn import TurnRun
    from mockups.products import DesignTraits

AspectRatio = Literal[tuple(ASPECT_RATIOS)]  # type: ignore[valid-type]


class ToolError(Exception):
    """A tool could not do its work; the message is shown to the user (and the model)."""


class ToolInputError(ToolError):
    """The arguments were invalid; nothing ran and nothing was charged."""


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError("must be an image id from an earlier tool result") from None


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GenerateImageArgs(Args):
    prompt: str = Field(
        min_length=1,
        max_length=1000,
        description="What to draw: subject, style, colours and any text in double quotes. "
        "Do not name the product it goes on.",
    )
    count: int = Field(1, ge=1, le=MAX_COUNT, description="How many versions to make.")
    aspectRatio: AspectRatio = Field("1:1", description="Width:height of the image.")
    seed: int | None = Field(None, ge=0, lt=2**31, description="Repeat a result with its seed.")


class RemoveBackgroundArgs(Args):
    imageId: str = Field(description="The id of an image from an earlier tool result.")

    _check_id = field_validator("imageId")(_uuid)


class SearchProductsArgs(Args):
    query: str = Field(
        "",
        max_length=120,
        description="Product words, e.g. 'mug', 'black tee', 'phone case'. Empty: rank every "
        "product by what suits the image.",
    )
    imageId: str | None = Field(
        None, description="Rank products by what suits this image (proportions, cut-out)."
    )
    colour: str = Field("", max_length=40, description="A colour for the product, e.g. 'black'.")
    limit: int = Field(5, ge=1, le=10)

    @field_validator("imageId")
    @classmethod
    def _check_image(cls, value: str | None) -> str | None:
        return None if value in (None, "") else _uuid(value)


class BuildMockupArgs(Args):
    product: str = Field(
        min_length=1, max_length=60, description="A product id from search_products."
    )
    imageId: str = Field(description="The id of the image to put on the product.")
    variant: str = Field("", max_length=40, description="A colour variant of the product.")
    scale: float = Field(
        1.0,
        ge=0.2,
        le=3.0,
        description="Size of the design: 1 fills the print area with the visible design, "
        "1.3 is bigger, 0.75 smaller.",
    )
    width: Literal[400, 512, 640, 800, 1024, 1200] = 800

    _check_id = field_validator("imageId")(_uuid)


class CreateListingArgs(Args):
    product: str = Field(min_length=1, max_length=60)
    imageId: str = Field(description="The id of the design image.")
    title: str = Field(min_length=1, max_length=160)
    priceCents: int = Field(ge=0, le=1_000_000, description="Price in cents, e.g. 2400.")
    variant: str = Field("", max_length=40)
    description: str = Field("", max_length=2000)

    _check_id = field_validator("imageId")(_uuid)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[Args]
    stage: str  # what the client shows while it runs
    run: Callable[[TurnRun, Any, Job | None], dict[str, Any]]
    priced: bool = False

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-tool declaration."""
        parameters = self.args.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }


def validate(name: str, arguments: Any) -> Args:
    """Arguments as a tool's model; ToolInputError names what is wrong."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolInputError(f"There is no tool {name!r}. Tools: {', '.join(TOOLS)}.")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError:
            raise ToolInputError("The arguments are not valid JSON.") from None
    if not isinstance(arguments, dict):
        raise ToolInputError("The arguments must be a JSON object.")
    try:
        return tool.args.model_validate(arguments)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "arguments"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise ToolInputError(f"{where}: {message}") from None


def cost_cents(job: Job) -> int:
    """What a job finally cost: its charge minus its refund (from the ledger)."""
    amounts = LedgerEntry.objects.filter(
        job=job, kind__in=[LedgerEntry.Kind.CHARGE, LedgerEntry.Kind.REFUND]
    ).values_list("amount_cents", flat=True)
    return max(-sum(amounts), 0)


def _image(asset: Asset) -> dict[str, Any]:
    return {
        "id": str(asset.id),
        "width": asset.width,
        "height": asset.height,
        "contentType": asset.content_type,
    }


def _asset(run: TurnRun, image_id: str) -> Asset:
    asset = Asset.objects.filter(shop=run.shop, id=image_id).select_related("shop").first()
    if asset is None:
        raise ToolError("That image is not in this shop's library.")
    if not asset.content_type.startswith("image/"):
        raise ToolError("That item is not an image.")
    return asset


def _finished(run: TurnRun, job: Job, what: str) -> Job:
    job = run.run_job(job)
    if job.status != Job.Status.COMPLETED:
        reason = job.error or f"the job was {job.status}"
        raise ToolError(f"{what} failed: {reason} (refunded)")
    return job


# --- the tools ------------------------------------------------------------------------------------


def generate_image(run: TurnRun, args: GenerateImageArgs, resume: Job | None) -> dict[str, Any]:
    from generations.actions import submit_generation

    job = resume
    if job is None:
        spec = GenerationSpec(
            prompt=args.prompt,
            count=args.count,
            aspect_ratio=args.aspectRatio,
            seed=args.seed,
            extra={"chat_turn": str(run.turn.id)},
        )
        try:
            job = submit_generation(run.shop, spec, user=run.user, source=run.source)
        except JobError as exc:
            raise ToolInputError(str(exc)) from None
        except InsufficientCredits as exc:
            raise ToolError(str(exc)) from None
        run.attach_job(job)
    job = _finished(run, job, "The generation")
    images = [_image(a) for a in Asset.objects.filter(job=job).order_by("created_at", "id")]
    if not images:
        raise ToolError("The image engine delivered no image.")
    return {
        "images": images,
        "prompt": args.prompt,
        "model": job.model,
        "jobId": str(job.id),
        "costCents": cost_cents(job),
    }


def remove_background(
    run: TurnRun, args: RemoveBackgroundArgs, resume: Job | None
) -> dict[str, Any]:
    from generations.operations import submit_operation

    job = resume
    if job is None:
        asset = _asset(run, args.imageId)
        try:
            job = submit_operation(
                run.shop, asset, "remove-background", {}, user=run.user, source=run.source
            )
        except JobError as exc:
            raise ToolInputError(str(exc)) from None
        except InsufficientCredits as exc:
            raise ToolError(str(exc)) from None
        run.attach_job(job)
    job = _finished(run, job, "Background removal")
    outputs = list(Asset.objects.filter(job=job).order_by("created_at", "id"))
    if not outputs:
        raise ToolError("Background removal delivered no image.")
    return {
        "image": _image(outputs[0]),
        "sourceImageId": args.imageId,
        "jobId": str(job.id),
        "costCents": cost_cents(job),
    }


def _traits(asset: Asset) -> DesignTraits:
    from generations.loader import ImageRejected, load_image
    from mockups.products import design_traits

    try:
        with asset.file.open("rb") as fh:
            return design_traits(load_image(fh.read()).image)
    except (OSError, ImageRejected) as exc:
        raise ToolError(f"The image could not be read ({exc}).") from None


def search_products(run: TurnRun, args: SearchProductsArgs, _resume: Job | None) -> dict[str, Any]:
    from mockups.products import search_products as search

    traits = _traits(_asset(run, args.imageId)) if args.imageId else None
    matches = search(run.shop, args.query, design=traits, colour=args.colour, limit=args.limit)
    return {
        "query": args.query,
        "products": [
            {
                "product": m.template.slug,
                "name": m.template.name,
                "variant": m.variant,
                "variants": [v["key"] for v in m.template.variants or []],
                "score": m.score,
                "why": m.reasons,
                "shopProduct": m.template.shop_id is not None,
            }
            for m in matches
        ],
    }


def build_mockup(run: TurnRun, args: BuildMockupArgs, _resume: Job | None) -> dict[str, Any]:
    from mockups.actions import placement_params, prerender_mockup
    from mockups.errors import MockupError
    from mockups.products import find_template, pick_variant

    asset = _asset(run, args.imageId)
    try:
        template = find_template(run.shop, args.product)
    except MockupError as exc:
        raise ToolInputError(f"{exc} Use a product from search_products.") from None
    variant = pick_variant(template, args.variant)
    # A cut-out's transparent margin would make it small on the product: fill with what shows.
    fill = _traits(asset).fill_scale()
    scale = round(min(max(args.scale * fill, 0.05), 10.0), 3)
    params: dict[str, Any] = {**placement_params({"scale": scale}), "w": args.width}
    if variant:
        params["variant"] = variant
    try:
        rendered = prerender_mockup(run.shop, template, asset, params)
    except MockupError as exc:
        raise ToolError(f"The mockup could not be rendered: {exc}") from None
    return {
        "costCents": rendered.cents,  # a fresh render is billed like a mockup URL's
        "product": template.slug,
        "productName": template.name,
        "variant": variant,
        "imageId": str(asset.id),
        "scale": args.scale,
        "params": params,
    }


def create_listing(run: TurnRun, args: CreateListingArgs, _resume: Job | None) -> dict[str, Any]:
    from mockups.actions import create_listing as make_listing
    from mockups.errors import MockupError
    from mockups.products import find_template, pick_variant

    asset = _asset(run, args.imageId)
    try:
        template = find_template(run.shop, args.product)
        listing = make_listing(
            run.shop,
            template=template,
            asset=asset,
            variant=pick_variant(template, args.variant),
            placement={},
            title=args.title,
            price_cents=args.priceCents,
            description=args.description,
        )
    except MockupError as exc:
        raise ToolError(f"The listing could not be created: {exc}") from None
    return {
        "listingId": str(listing.id),
        "token": listing.token,
        "title": listing.title,
        "priceCents": listing.price_cents,
        "product": template.slug,
        "variant": listing.variant,
        "imageId": str(asset.id),
    }


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in [
        Tool(
            "generate_image",
            "Generate new design images from a text prompt. Costs about a cent per image.",
            GenerateImageArgs,
            "generating image",
            generate_image,
            priced=True,
        ),
        Tool(
            "remove_background",
            "Cut an image out of its background (transparent PNG), e.g. before a sticker or a "
            "garment. Costs about a cent.",
            RemoveBackgroundArgs,
            "removing background",
            remove_background,
            priced=True,
        ),
        Tool(
            "search_products",
            "Search the shop's product catalog (built-in products and the shop's own) by words, "
            "and rank by what suits an image. Free.",
            SearchProductsArgs,
            "searching the catalog",
            search_products,
        ),
        Tool(
            "build_mockup",
            "Put an image on a product and return its mockup. Free.",
            BuildMockupArgs,
            "building the mockup",
            build_mockup,
        ),
        Tool(
            "create_listing",
            "Create a listing with a buy link for an image on a product, only when the user "
            "asks to sell it. Free.",
            CreateListingArgs,
            "creating the listing",
            create_listing,
        ),
    ]
}
