"""Reading a design request without a language model: the words that name a subject, a style,
colours, quoted text, an art format, a product (and its colour), counts, prices and follow-up
verbs. Deterministic and pure (no ORM): the offline planner turns an Intent into tool calls.

It is a reader of a small design vocabulary, not language understanding: words it does not know
are kept as the subject, so "a cozy cabin" stays "cozy cabin".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Catalog products by the words people use for them (mockups/catalog.py slugs). Multi-word names
# are joined with "_" before reading, so they count once.
PRODUCT_WORDS: dict[str, str] = {
    **dict.fromkeys(["mug", "cup", "coffee_mug", "tea_mug", "travel_mug", "tumbler"], "mug"),
    **dict.fromkeys(["tee", "tshirt", "shirt", "t_shirt"], "tshirt"),
    **dict.fromkeys(["hoodie", "sweatshirt", "hooded_sweatshirt", "pullover"], "hoodie"),
    **dict.fromkeys(["tote", "bag", "tote_bag", "canvas_bag", "shopping_bag"], "tote"),
    **dict.fromkeys(["framed_poster", "wall_poster"], "poster-framed"),
    **dict.fromkeys(["phone_case", "iphone_case", "case", "phonecase"], "phone-case"),
    **dict.fromkeys(["gallery_canvas", "canvas_print", "wall_canvas"], "canvas"),
    **dict.fromkeys(["laptop_sticker", "diecut_sticker", "vinyl_sticker", "decal"], "sticker"),
}
# Words that are an art format when they describe the design ("a cabin sticker") and a product
# when the design goes on or becomes one ("as a sticker", "on a poster").
FORMAT_PRODUCTS = {"sticker": "sticker", "poster": "poster-framed", "canvas": "canvas"}
# Art formats the image engines understand (docs/engines-builtin.md: compositions).
ART_FORMATS: dict[str, str] = {
    **dict.fromkeys(["sticker", "decal", "diecut"], "sticker"),
    **dict.fromkeys(["poster", "flyer", "postcard"], "poster"),
    **dict.fromkeys(["badge", "patch", "crest", "emblem", "seal", "stamp"], "badge"),
    **dict.fromkeys(["logo", "icon", "mascot", "insignia"], "logo"),
    **dict.fromkeys(["pattern", "seamless", "wallpaper", "tile"], "pattern"),
    "illustration": "illustration",
    "landscape": "landscape",
}
# Any product will do: pick by what suits the design.
GENERIC_PRODUCTS = {"something", "merch", "merchandise", "product", "products", "anything"}

STYLES: dict[str, str] = {
    **dict.fromkeys(["line_art", "line_drawing", "lineart", "outline", "linework"], "line art"),
    **dict.fromkeys(["minimal", "minimalist", "simple", "clean"], "minimalist"),
    **dict.fromkeys(["retro", "seventies", "groovy"], "retro"),
    **dict.fromkeys(["vintage", "antique", "heritage"], "vintage"),
    **dict.fromkeys(["neon", "glow", "glowing", "cyberpunk", "synthwave", "vaporwave"], "neon"),
    **dict.fromkeys(["pastel", "soft", "kawaii", "cute"], "pastel"),
    **dict.fromkeys(["flat", "vector"], "flat"),
    **dict.fromkeys(["grunge", "distressed", "worn"], "grunge"),
    **dict.fromkeys(["halftone", "comic", "pop_art"], "halftone"),
    **dict.fromkeys(["grainy", "risograph", "textured"], "grainy"),
    **dict.fromkeys(["watercolor", "watercolour", "painted", "dreamy"], "watercolor"),
    **dict.fromkeys(["geometric", "bauhaus"], "geometric"),
    "gradient": "gradient",
    **dict.fromkeys(["sketch", "sketchy", "hand_drawn", "handdrawn"], "sketch"),
}

# Colour words. The first group is always a colour; the second only next to another colour word
# or "colour"/"coloured" ("forest green", "rose coloured"), since alone they are things.
COLOURS = {
    "red", "crimson", "scarlet", "orange", "amber", "yellow", "mustard", "gold", "golden",
    "green", "emerald", "teal", "cyan", "turquoise", "aqua", "blue", "cobalt", "navy", "indigo",
    "purple", "violet", "lavender", "lilac", "pink", "magenta", "fuchsia", "brown", "beige",
    "ivory", "white", "black", "grey", "gray", "silver", "charcoal", "burgundy", "maroon",
    "terracotta", "heather",
}  # fmt: skip
SOMETIMES_COLOURS = {
    "sky", "forest", "sand", "rose", "rust", "tan", "mint", "sage", "peach", "salmon", "coral",
    "cream", "olive", "lime",
}  # fmt: skip
COLOUR_MODIFIERS = {"light", "dark", "pale", "deep", "bright", "pastel", "neon", "hot"}
COLOUR_NOUNS = {"colour", "color", "coloured", "colored", "colours", "colors", "tone", "tones"}

NUMBERS = {
    "one": 1, "single": 1, "two": 2, "pair": 2, "couple": 2, "three": 3, "few": 3, "several": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
COUNT_NOUNS = {
    "version", "variation", "option", "variant", "take", "design", "image", "picture", "idea",
    "alternative", "choice", "concept", "sticker", "poster", "logo", "badge", "illustration",
    "pic", "shot", "render",
}  # fmt: skip

# Words with no design meaning: commands, pronouns, determiners, politeness, joiners.
STOPWORDS = {
    "make", "makes", "making", "create", "creating", "design", "designs", "draw", "generate",
    "give", "get", "show", "render", "produce", "paint", "want", "wanna", "need", "like", "would",
    "could", "can", "will", "please", "pls", "plz", "i", "me", "my", "mine", "we", "us", "our",
    "you", "your", "it", "its", "this", "that", "these", "those", "them", "they", "a", "an",
    "the", "some", "any", "and", "or", "but", "with", "without", "of", "for", "to", "in", "into",
    "on", "onto", "as", "at", "by", "from", "put", "place", "print", "printed", "stick", "slap",
    "mock", "mockup", "mockups", "up", "try", "trying", "again", "instead", "just", "only",
    "also", "then", "now", "next", "thing", "things", "version", "versions", "variation",
    "variations", "option", "options", "image", "images", "picture", "pictures", "art",
    "artwork", "graphic", "text", "saying", "says", "say", "reads", "read", "word", "words",
    "is", "be", "are", "do", "does", "let", "lets", "let's", "so", "very", "more", "less", "new",
    "another", "different", "other", "same", "one", "ones", "lovely", "nice", "cool", "awesome",
    "hey", "hi", "hello", "thanks", "thank", "ok", "okay", "maybe", "too", "look", "looks",
    "looking", "having", "have", "has", "there", "here", "what", "which", "how", "about",
    "colour", "color", "background", "bg", "style", "styled", "kind", "sort", "type",
    "time", "once", "turn", "change", "edit", "update", "use", "using", "keep", "redo", "retry",
    "regenerate", "sell", "selling", "listing", "list", "link", "buy", "shop", "store", "sale",
    "price", "priced", "dollars", "dollar", "usd", "bucks", "cents", "remove", "removed",
    "transparent", "cutout", "cut", "out", "no", "bigger", "larger", "smaller", "big", "small",
    "size", "scale", "if", "where", "when", "should", "see", "good", "great", "well", "really",
    "each", "all", "both", "mock-up", "ideas", "idea", "alternatives", "choices", "go",
    "goes", "fit", "fits", "work", "works",
}  # fmt: skip

ON_MARKERS = {"on", "onto", "as", "into", "for"}
PLACEMENT_VERBS = {"put", "place", "print", "stick", "slap", "mock", "show", "see", "display"}
DETERMINERS = {"a", "an", "the", "my", "our", "your", "some", "this", "that", "one", "few"}
PHRASE_ENDS = {"and", "then", "with", "but", "please", "in", "so", "which", "that", "pls"}
AGAIN_WORDS = {"again", "another", "different", "redo", "regenerate", "retry", "new", "other"}
# Small words kept inside a subject when they join two of its words.
CONNECTIVES = {
    "at",
    "of",
    "in",
    "on",
    "under",
    "over",
    "with",
    "by",
    "near",
    "and",
    "the",
    "a",
    "an",
}
REFERS_BACK = {"it", "this", "that", "same", "them", "these", "those"}
LISTING_WORDS = {"sell", "selling", "listing", "sale", "store", "checkout", "buy"}


@dataclass
class Intent:
    """What one request asks for. Empty fields mean "not said" (a follow-up keeps the old)."""

    subject: str = ""
    styles: list[str] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)  # colour words for the design, in order
    colour_phrase: str = ""  # as written, e.g. "black on white", "dark blue"
    text: str = ""  # quoted text to set in the design
    no_text: bool = False
    art_format: str = ""
    product: str = ""  # a catalog slug the words named
    product_query: str = ""  # words to search the catalog with when no slug was named
    any_product: bool = False  # "on something": choose by what suits the design
    variant: str = ""  # colour word for the product ("a black tee")
    count: int | None = None
    background: str = ""  # "remove" or "keep"
    listing: bool = False
    price_cents: int | None = None
    scale: float | None = None
    again: bool = False  # regenerate / another / different
    refers_back: bool = False  # "it", "this", "same"
    searching: bool = False  # "what could this go on?"

    @property
    def has_design_words(self) -> bool:
        return bool(
            self.subject or self.styles or self.colours or self.text or self.art_format
        ) or bool(self.no_text)

    @property
    def wants_product(self) -> bool:
        return bool(self.product or self.product_query or self.any_product)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", [], None, False)}


# --- tokens ---------------------------------------------------------------------------------------

_QUOTED = re.compile(r"[\"“”]([^\"“”]{1,120})[\"“”]|(?:^|\s)'([^']{1,120})'(?=\s|$|[.,!?;:])")
_PRICE = re.compile(
    r"(?:[$€£]\s?(\d{1,6}(?:[.,]\d{1,2})?))|(?:\b(\d{1,6}(?:[.,]\d{1,2})?)\s?(?:dollars?|usd|bucks|eur|euros?)\b)",
    re.IGNORECASE,
)
_COMPOUNDS = [
    (r"t[\s-]?shirts?", "tshirt"),
    (r"die[\s-]?cut", "diecut"),
    (r"line[\s-]art", "line_art"),
    (r"line[\s-]drawings?", "line_drawing"),
    (r"hand[\s-]drawn", "hand_drawn"),
    (r"pop[\s-]art", "pop_art"),
    (r"phone[\s-]cases?", "phone_case"),
    (r"iphone[\s-]cases?", "iphone_case"),
    (r"tote[\s-]bags?", "tote_bag"),
    (r"canvas[\s-]bags?", "canvas_bag"),
    (r"shopping[\s-]bags?", "shopping_bag"),
    (r"coffee[\s-]mugs?", "coffee_mug"),
    (r"tea[\s-]mugs?", "tea_mug"),
    (r"travel[\s-]mugs?", "travel_mug"),
    (r"framed[\s-]posters?", "framed_poster"),
    (r"wall[\s-]posters?", "wall_poster"),
    (r"gallery[\s-]canvas(?:es)?", "gallery_canvas"),
    (r"canvas[\s-]prints?", "canvas_print"),
    (r"wall[\s-]canvas(?:es)?", "wall_canvas"),
    (r"laptop[\s-]stickers?", "laptop_sticker"),
    (r"vinyl[\s-]stickers?", "vinyl_sticker"),
    (r"diecut[\s-]stickers?", "diecut_sticker"),
    (r"hooded[\s-]sweatshirts?", "hooded_sweatshirt"),
    (r"buy[\s-]links?", "buy_link"),
    (r"a[\s-]couple[\s-]of", "couple"),
    (r"a[\s-]few", "few"),
    (r"background[\s-]removed", "remove_background"),
    (
        r"(?:remove|drop|strip|lose|take\s+off|get\s+rid\s+of)\s+(?:the\s+|its\s+|a\s+)?(?:background|bg|backdrop)",
        "remove_background",
    ),
    (r"(?:no|without|transparent)\s+(?:the\s+)?(?:background|bg|backdrop)", "remove_background"),
    (r"(?:cut\s+(?:it\s+)?out|cutout|cut-out|transparent)", "remove_background"),
    (r"(?:keep|with)\s+(?:the\s+|its\s+)?(?:background|bg|backdrop)", "keep_background"),
    (r"(?:no|without(?:\s+any)?|remove\s+the|drop\s+the)\s+text", "no_text"),
    (
        r"(?:scale|size)\s+(?:it\s+)?up|make\s+it\s+(?:bigger|larger)|\bbigger\b|\blarger\b|enlarge",
        "scale_up",
    ),
    (r"(?:scale|size)\s+(?:it\s+)?down|make\s+it\s+smaller|\bsmaller\b|shrink", "scale_down"),
    (
        r"what\s+(?:could|can|would|should)\s+(?:i|we|it|this|you)\b|which\s+products?|what\s+products?|suggest\s+(?:a\s+)?products?|show\s+me\s+products",
        "searching",
    ),
]


def _stem(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def quoted(text: str) -> tuple[str, str]:
    """(the text with quoted phrases removed, the first quoted phrase)."""
    found = ""
    for m in _QUOTED.finditer(text):
        found = found or (m.group(1) or m.group(2) or "").strip()
    return _QUOTED.sub(" ", text), found


def tokens(text: str) -> list[str]:
    lowered = text.lower()
    for pattern, joined in _COMPOUNDS:
        lowered = re.sub(pattern, f" {joined} ", lowered)
    return re.findall(r"[a-z][a-z_']*|\d+", lowered)


# --- reading --------------------------------------------------------------------------------------


def _is_colour(words: list[str], i: int) -> bool:
    w = words[i]
    if w in COLOURS:
        return True
    if w in SOMETIMES_COLOURS:
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i > 0 else ""
        return after in COLOURS or after in COLOUR_NOUNS or before in COLOUR_MODIFIERS
    return False


def _product_of(word: str) -> str:
    return PRODUCT_WORDS.get(word) or PRODUCT_WORDS.get(_stem(word)) or ""


def read_request(text: str) -> Intent:
    """Read one request (see the module docstring). Never raises."""
    intent = Intent()
    text = (text or "")[:4000]
    rest, intent.text = quoted(text)
    price = _PRICE.search(rest)
    if price:
        amount = (price.group(1) or price.group(2) or "0").replace(",", ".")
        intent.price_cents = round(float(amount) * 100)
        rest = rest[: price.start()] + " " + rest[price.end() :]
    words = tokens(rest)
    used = [False] * len(words)

    def use(*indices: int) -> None:
        for i in indices:
            used[i] = True

    # Flags first: they consume their own words.
    for i, w in enumerate(words):
        if w == "remove_background":
            intent.background = "remove"
            use(i)
        elif w == "keep_background":
            intent.background = "keep"
            use(i)
        elif w == "no_text":
            intent.no_text = True
            use(i)
        elif w == "scale_up":
            intent.scale = 1.3
            use(i)
        elif w == "scale_down":
            intent.scale = 0.75
            use(i)
        elif w == "searching":
            intent.searching = True
            intent.any_product = True
            use(i)
        elif w == "buy_link" or w in LISTING_WORDS:
            intent.listing = True
            use(i)
        elif w in AGAIN_WORDS:
            intent.again = True
        elif w in REFERS_BACK:
            intent.refers_back = True

    _read_counts(words, used, intent)
    _read_products(words, used, intent)

    # Design colours (those not taken by a product phrase), keeping "X on Y" pairs and modifiers.
    phrase: list[str] = []
    for i, w in enumerate(words):
        if used[i] or not _is_colour(words, i):
            continue
        use(i)
        intent.colours.append("grey" if w == "gray" else w)
        start = i
        if i > 0 and words[i - 1] in COLOUR_MODIFIERS and not used[i - 1]:
            use(i - 1)
            start = i - 1
        piece = " ".join(words[start : i + 1])
        if phrase and i >= 2 and words[i - 1] == "on" and _is_colour(words, i - 2):
            use(i - 1)
            phrase[-1] = f"{phrase[-1]} on {piece}"
        else:
            phrase.append(piece)
    for i, w in enumerate(words):
        if not used[i] and w in COLOUR_NOUNS:
            use(i)
    intent.colour_phrase = " and ".join(phrase)

    for i, w in enumerate(words):
        if used[i]:
            continue
        style = STYLES.get(w) or STYLES.get(_stem(w))
        if style:
            if style not in intent.styles:
                intent.styles.append(style)
            use(i)
            continue
        art = ART_FORMATS.get(w) or ART_FORMATS.get(_stem(w))
        if art and not intent.art_format:
            intent.art_format = art
            use(i)

    intent.subject = _subject(words, used)
    if intent.art_format and not intent.product and not intent.product_query:
        # "a cabin sticker": a format that is also a product shows on that product.
        base = next((k for k, v in ART_FORMATS.items() if v == intent.art_format), "")
        if intent.art_format in FORMAT_PRODUCTS or base in FORMAT_PRODUCTS:
            intent.product = FORMAT_PRODUCTS.get(intent.art_format, "")
    return intent


def _subject(words: list[str], used: list[bool]) -> str:
    """The words left over, with the small words that join them ("a wolf howling at the moon")."""
    keep = [
        i
        for i, w in enumerate(words)
        if not used[i] and w not in STOPWORDS and not w.isdigit() and w not in NUMBERS
    ]
    out: list[int] = []
    for a, b in zip(keep, [*keep[1:], None], strict=False):
        out.append(a)
        if b is None or b - a > 3:
            continue
        gap = range(a + 1, b)
        if all(not used[k] and words[k] in CONNECTIVES for k in gap):
            out.extend(gap)
    return " ".join(words[i] for i in out).replace("_", " ").strip()


def _read_counts(words: list[str], used: list[bool], intent: Intent) -> None:
    for i, w in enumerate(words):
        number = int(w) if w.isdigit() else NUMBERS.get(w)
        if number is None:
            continue
        j = i + 1
        while j < len(words) and words[j] in {"more", "different", "new", "other", "of", "the"}:
            j += 1
        if j < len(words) and _stem(words[j]) in COUNT_NOUNS:
            intent.count = number
            used[i] = True
            if _stem(words[j]) in {"version", "variation", "option", "variant", "take"}:
                used[j] = True
                intent.again = True
            for k in range(i + 1, j):
                used[k] = True
            return
    if any(_stem(w) in {"version", "variation", "alternative"} for w in words):
        intent.again = True


def _read_products(words: list[str], used: list[bool], intent: Intent) -> None:
    """Products after "on / onto / as / into / for" (with their colour), then anywhere."""
    placing = any(w in PLACEMENT_VERBS for w in words)
    i = 0
    while i < len(words):
        w = words[i]
        if w not in ON_MARKERS or used[i]:
            i += 1
            continue
        j = i + 1
        while j < len(words) and words[j] in DETERMINERS:
            j += 1
        phrase: list[int] = []
        while j < len(words) and len(phrase) < 5:
            if words[j] in PHRASE_ENDS or words[j] in ON_MARKERS:
                break
            phrase.append(j)
            j += 1
        product, colours, others = "", [], []
        for k in phrase:
            slug = _product_of(words[k]) or FORMAT_PRODUCTS.get(_stem(words[k]), "")
            if slug and not product:
                product = slug
            elif _is_colour(words, k) or words[k] in COLOUR_MODIFIERS:
                colours.append(k)
            elif words[k] in GENERIC_PRODUCTS or _stem(words[k]) in GENERIC_PRODUCTS:
                intent.any_product = True
                used[k] = True
            elif words[k] not in STOPWORDS:
                others.append(k)
        if product or intent.any_product:
            intent.product = intent.product or product
            for k in colours:
                if _is_colour(words, k):
                    intent.variant = intent.variant or ("grey" if words[k] == "gray" else words[k])
            for k in [i, *colours, *[k for k in phrase if _product_of(words[k])]]:
                used[k] = True
            for k in phrase:
                if FORMAT_PRODUCTS.get(_stem(words[k])) == product:
                    used[k] = True
        elif others and placing and w in {"on", "onto"}:
            # "put it on a throw pillow": not a catalog word; the catalog search decides.
            intent.product_query = " ".join(words[k] for k in others)
            for k in [i, *others, *colours]:
                used[k] = True
            for k in colours:
                intent.variant = intent.variant or words[k]
        i = j
    # Product words anywhere else ("a cabin mug"); a colour right before one is its variant.
    for i, w in enumerate(words):
        if used[i]:
            continue
        slug = _product_of(w)
        if not slug:
            continue
        used[i] = True
        if not intent.product:
            intent.product = slug
            if i > 0 and not used[i - 1] and _is_colour(words, i - 1):
                intent.variant = words[i - 1]
                used[i - 1] = True


# --- designs ----------------------------------------------------------------------------------------


@dataclass
class DesignBrief:
    """What a design is of: kept in the conversation so follow-ups can change one thing."""

    subject: str = ""
    styles: list[str] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    colour_phrase: str = ""
    text: str = ""
    art_format: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DesignBrief:
        data = data or {}
        return cls(
            subject=str(data.get("subject", "")),
            styles=[str(s) for s in data.get("styles", [])],
            colours=[str(c) for c in data.get("colours", [])],
            colour_phrase=str(data.get("colour_phrase", "")),
            text=str(data.get("text", "")),
            art_format=str(data.get("art_format", "")),
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def changed_by(self, intent: Intent) -> DesignBrief:
        """This brief with what a follow-up said: colours, styles, text and format replace."""
        return DesignBrief(
            subject=intent.subject or self.subject,
            styles=intent.styles or self.styles,
            colours=intent.colours or self.colours,
            colour_phrase=intent.colour_phrase or self.colour_phrase,
            text="" if intent.no_text else (intent.text or self.text),
            art_format=intent.art_format or self.art_format,
        )

    def prompt(self) -> str:
        """The text-to-image prompt: "retro cozy cabin sticker in blue, with the text "HI"."""
        head = " ".join([*self.styles, self.subject or "", self.art_format]).split()
        prompt = " ".join(head) or "an abstract design"
        if self.colour_phrase:
            prompt += f" in {self.colour_phrase}"
        if self.text:
            prompt += f', with the text "{self.text}"'
        return prompt

    def describe(self) -> str:
        """For replies: "a cozy cabin sticker in blue"."""
        words = " ".join([*self.styles, self.subject, self.art_format]).split()
        noun = " ".join(words) or "design"
        article = "an" if noun[:1] in "aeiou" else "a"
        out = f"{article} {noun}"
        if self.colour_phrase:
            out += f" in {self.colour_phrase}"
        if self.text:
            out += f" saying “{self.text}”"
        return out


def brief_from(intent: Intent) -> DesignBrief:
    return DesignBrief().changed_by(intent)
