"""The offline planner: reads a request (generations.chat.intent), decides what to do with what
the conversation already made, and runs the chain of tools one call at a time, like a model
would: generate → remove the background → search the catalog → build the mockup → list it.

`decide()` is pure (an Intent and the conversation's state in, a Plan out); `run()` carries it
out through a TurnRun. The same request in the same state always gives the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from generations.actions import MAX_COUNT
from generations.chat.intent import DesignBrief, Intent, brief_from, read_request

if TYPE_CHECKING:
    from generations.chat.turn import TurnRun

# Art formats whose builtin rendering sits on a plain backdrop that is better cut away on a
# product (a die-cut sticker, a badge, a logo).
CUTOUT_FORMATS = {"sticker", "badge", "logo"}
CUTOUT_PRODUCTS = {"sticker"}

HELP = (
    "I can make a design and put it on a product. Try “make a cozy cabin sticker and put it on "
    "a mug”, then follow up with “make it blue”, “now on a hoodie” or “try three versions”."
)


@dataclass
class Plan:
    """What a turn will do, decided before any tool runs."""

    brief: DesignBrief | None = None  # generate this design (None: reuse the current one)
    count: int = 1
    seed: int | None = None
    reuse_design: str = ""  # asset id of the design to reuse
    remove_background: bool = False
    product: str = ""  # a catalog slug, or "" to search
    product_query: str = ""  # words for the catalog search
    by_suits: bool = False  # choose the product by what suits the design
    variant: str = ""  # colour word for the product
    mockup: bool = False
    scale: float | None = None
    listing: bool = False
    price_cents: int | None = None
    notes: list[str] = field(default_factory=list)
    understood: bool = True

    def intro(self) -> str:
        """One sentence saying what is about to happen (the first words a client sees)."""
        if not self.understood:
            return HELP
        steps: list[str] = []
        if self.brief is not None:
            what = self.brief.describe()
            if self.count > 1:
                steps.append(f"make {self.count} versions of {what}")
            elif self.seed is not None and not self.brief.subject:
                steps.append(f"make a new version of {what}")
            else:
                steps.append(f"make {what}")
        if self.remove_background:
            steps.append("cut it out of its background")
        if self.mockup:
            thing = "it" if self.brief is not None or self.remove_background else "your design"
            if self.by_suits and not self.product:
                steps.append(f"find a product that suits {thing} and show it there")
            else:
                product = self.product or self.product_query
                shown = _product_phrase(product, self.variant)
                verb = "show the first on" if self.count > 1 else f"put {thing} on"
                steps.append(f"{verb} {shown}")
        if self.listing:
            steps.append("list it for sale with a buy link")
        if not steps:
            return HELP
        text = _join(steps)
        return f"I'll {text}."


def _product_phrase(product: str, variant: str) -> str:
    names = {
        "tshirt": "T-shirt",
        "poster-framed": "framed poster",
        "phone-case": "phone case",
        "tote": "tote bag",
    }
    name = names.get(product, product.replace("-", " "))
    if variant:
        name = f"{variant} {name}"
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article} {name}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def decide(
    intent: Intent, state: dict[str, Any], *, regenerate: bool = False, seed: int | None = None
) -> Plan:
    """The plan for one request, given what the conversation made so far (`state`, see
    generations.chat.state). `seed` is used whenever a design is made again."""
    plan = Plan(notes=[])
    design = state.get("design") or {}
    have_design = bool(design.get("assetId"))
    previous = DesignBrief.from_dict(design.get("brief"))
    product_state = state.get("product") or {}
    again = intent.again or regenerate

    # "make the cabin blue" names the old subject again: that is a change, not a new design.
    new_subject = bool(intent.subject) and not (
        previous.subject and set(intent.subject.split()) <= set(previous.subject.split())
    )
    modifies = bool(
        intent.colours or intent.styles or intent.text or intent.no_text or intent.art_format
    )
    if intent.count is not None or again:
        modifies = modifies or have_design or bool(previous.subject)

    if new_subject or (not have_design and (modifies or intent.text)):
        plan.brief = brief_from(intent) if new_subject else previous.changed_by(intent)
        nothing = not plan.brief.subject and not plan.brief.text and not previous.subject
        if nothing and not intent.wants_product and not intent.listing:
            plan.understood = False
            return plan
    elif modifies and (have_design or previous.subject):
        plan.brief = previous.changed_by(intent)
        if not plan.brief.subject and design.get("prompt"):
            # A design this planner did not make (kept, or from the language model): its prompt.
            plan.brief = DesignBrief(subject=str(design["prompt"])).changed_by(intent)
    elif have_design:
        plan.reuse_design = str(design.get("assetId"))
    elif intent.wants_product or intent.listing or intent.background == "remove":
        plan.understood = False
        plan.notes.append("There is no design in this conversation yet to use.")
        return plan
    else:
        plan.understood = False
        return plan

    if plan.brief is not None:
        count = intent.count or 1
        if count > MAX_COUNT:
            plan.notes.append(f"I can make at most {MAX_COUNT} versions at once.")
            count = MAX_COUNT
        plan.count = max(1, count)
        if again or plan.count > 1 or (not new_subject and plan.brief == previous):
            plan.seed = seed

    fmt = plan.brief.art_format if plan.brief is not None else previous.art_format
    product = intent.product
    plan.by_suits = intent.any_product and not product and not intent.product_query
    if not (product or intent.product_query or plan.by_suits) and product_state.get("slug"):
        # A follow-up that names no product keeps the conversation's product (and colour).
        product = str(product_state["slug"])
        if not intent.variant:
            plan.variant = str(product_state.get("variant", ""))
    plan.product = product
    plan.product_query = intent.product_query
    plan.variant = intent.variant or plan.variant
    plan.mockup = bool(plan.product or plan.product_query or plan.by_suits)
    plan.scale = intent.scale
    changes_design = intent.scale is not None or intent.background == "remove"
    if changes_design and not plan.mockup and product_state.get("slug"):
        # Bigger, smaller or cut out: show the change on the conversation's product again.
        plan.product, plan.mockup = str(product_state["slug"]), True
        plan.variant = plan.variant or str(product_state.get("variant", ""))
    if intent.scale is None and plan.mockup and not plan.brief and not intent.product:
        previous_scale = (state.get("mockup") or {}).get("scale")
        plan.scale = float(previous_scale) if previous_scale else None

    if intent.background == "remove":
        plan.remove_background = True
    elif intent.background != "keep":
        cut_format = fmt in CUTOUT_FORMATS and (plan.brief is not None or not design.get("cutout"))
        cut_product = plan.product in CUTOUT_PRODUCTS and not design.get("cutout")
        plan.remove_background = plan.mockup and (cut_format or cut_product)
    if plan.remove_background and plan.brief is None and design.get("cutout"):
        plan.remove_background = False  # the current design is already cut out
        if intent.background == "remove":
            plan.notes.append("The current design is already cut out of its background.")

    plan.listing = intent.listing
    plan.price_cents = intent.price_cents
    if plan.listing and not plan.mockup:
        if product_state.get("slug"):
            plan.product, plan.mockup = str(product_state["slug"]), True
            plan.variant = plan.variant or str(product_state.get("variant", ""))
        else:
            plan.by_suits = plan.mockup = True
    return plan


def run(run: TurnRun) -> None:
    """Carry out the plan for this turn's request through the turn's tools."""
    intent = read_request(run.request)
    plan = decide(intent, run.previous, regenerate=run.regenerate, seed=run.seed)
    if not run.planned_offline:
        run.planner_name("offline")
    run.say_intro(plan.intro())
    if not plan.understood:
        for note in plan.notes:
            run.say(note)
        return

    design_id = plan.reuse_design
    made: list[str] = []
    earlier = run.produced.get("design") or {}
    if plan.brief is not None and earlier.get("assetId"):
        # Taking over from the language model: keep the design its tool calls already made.
        design_id, made = str(earlier["assetId"]), list(run.produced.get("images") or [])
        if earlier.get("cutout"):
            plan.remove_background = False
    elif plan.brief is not None:
        arguments: dict[str, Any] = {"prompt": plan.brief.prompt(), "count": plan.count}
        if plan.seed is not None:
            arguments["seed"] = plan.seed
        result = run.call("generate_image", arguments, brief=plan.brief.as_dict())
        if not result.ok:
            run.say(f"I could not make the image: {result.error}")
            return
        made = [img["id"] for img in result.output.get("images", [])]
        if not made:
            run.say("The image engine returned no image.")
            return
        design_id = made[0]

    if plan.remove_background and design_id:
        result = run.call("remove_background", {"imageId": design_id})
        if result.ok:
            design_id = result.output["image"]["id"]
        else:
            plan.notes.append(f"I kept the background: {result.error}")

    mockup: dict[str, Any] | None = None
    listing: dict[str, Any] | None = None
    product_name = ""
    if plan.mockup and design_id:
        slug, variant = plan.product, plan.variant
        if not slug or plan.product_query or plan.by_suits:
            query = plan.product_query or slug
            arguments = {"imageId": design_id}
            if query:
                arguments["query"] = query
            if plan.variant:
                arguments["colour"] = plan.variant
            found = run.call("search_products", arguments)
            products = found.output.get("products", []) if found.ok else []
            if not products:
                wanted = plan.product_query or slug or "that"
                run.say(f"I found no product for “{wanted}” in the catalog.")
                slug = ""
            else:
                slug, variant = products[0]["product"], products[0].get("variant", "")
                product_name = products[0].get("name", "")
        if slug:
            arguments = {"product": slug, "imageId": design_id}
            if variant:
                arguments["variant"] = variant
            if plan.scale:
                arguments["scale"] = plan.scale
            result = run.call("build_mockup", arguments)
            if result.ok:
                mockup = result.output
                product_name = mockup.get("productName", product_name)
            else:
                plan.notes.append(f"The mockup did not work: {result.error}")

    if plan.listing and mockup is not None:
        brief = plan.brief or DesignBrief.from_dict((run.previous.get("design") or {}).get("brief"))
        title = (brief.describe().removeprefix("a ").removeprefix("an ") or "design").capitalize()
        arguments = {
            "product": mockup["product"],
            "imageId": mockup["imageId"],
            "title": f"{title} — {product_name}"[:160],
            "priceCents": plan.price_cents if plan.price_cents is not None else 2400,
        }
        if mockup.get("variant"):
            arguments["variant"] = mockup["variant"]
        result = run.call("create_listing", arguments)
        if result.ok:
            listing = result.output
        else:
            plan.notes.append(f"The listing was not created: {result.error}")

    cut = plan.remove_background and bool(design_id) and design_id not in made
    run.say(_summary(plan, made, cut, mockup, product_name, listing, run.cost_cents()))


def _summary(
    plan: Plan,
    made: list[str],
    cut: bool,
    mockup: dict[str, Any] | None,
    product_name: str,
    listing: dict[str, Any] | None,
    cost: int,
) -> str:
    parts: list[str] = []
    if made and plan.brief is not None:
        what = plan.brief.describe()
        if len(made) > 1:
            first = "; the first is cut out of its background" if cut else ""
            parts.append(f"Here are {len(made)} versions of {what}{first}.")
        else:
            parts.append(f"Here is {what}{', cut out of its background' if cut else ''}.")
    elif cut:
        parts.append("Your design is cut out of its background.")
    if mockup is not None:
        colour = f" in {mockup['variant']}" if mockup.get("variant") else ""
        lead = "The mockup shows the first on" if len(made) > 1 else "It's on"
        if not made:
            lead = "Your design is now on"
        parts.append(f"{lead} the {product_name or mockup['product']}{colour}.")
    if listing is not None:
        price = listing.get("priceCents", 0) / 100
        parts.append(f"It's listed for ${price:.2f}; the buy link is below.")
    parts.extend(plan.notes)
    parts.append(f"This cost {cost}¢." if cost else "This cost nothing.")
    return " ".join(parts)
