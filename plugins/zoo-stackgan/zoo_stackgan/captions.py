"""``mnist5k-captions``: mnist5k's digits with English captions written from their label and their look.

The captions are written, not collected: three attributes are measured on each 28x28 digit
(``measure_attributes``), each is cut into three levels (``quantise``), and ten templates turn the
label and the levels into ten sentences (``captions_for``), e.g. ``"a thick seven slanting to the
right"``, ``"the digit 7, wide and thick"``, ``"7 written with a thick stroke, tilted to the right"``.
Every training epoch draws one of an image's ten captions at random, as StackGAN draws one of a
bird's ten.

The attributes (``x`` is the image as floats in [0, 1] used as ink mass, rows ``y`` pointing down,
``m00 = sum(x)``, centroid ``(cx, cy)``, central moments ``mu_pq = sum(x (X - cx)^p (Y - cy)^q) / m00``):

- **thickness**, the mean stroke width in pixels: ``2 * m00 / TV(x)``, where ``TV(x)`` is the sum
  of absolute differences between 4-neighbours (on a binary image: the length of the ink's outline).
  A stroke of width w and length L has area wL and outline 2(L + w), so the ratio is
  ``wL / (L + w)``, which is w for long strokes.
- **slant**, in degrees, positive to the right: ``atan(-mu11 / mu02)``. ``-mu11 / mu02`` is the
  shear that best explains x by y (the deskewing shear of Simard / LeCun's MNIST deskew); the
  minus sign because rows grow downwards, so a digit whose top leans right has ``mu11 < 0``.
- **width**, in pixels, measured across the deskewed digit: ``sqrt(12 * (mu20 - mu11^2 / mu02) + 1)``:
  the horizontal variance left once the slant is removed, scaled so that a bar W pixels wide
  gives W (the variance of W consecutive pixels is (W^2 - 1) / 12).

(Height is not used: MNIST's digits were scaled to fit a 20x20 box, so it says little.) An empty
image measures 0 on all three.

The levels, from ``THRESHOLDS``:

- thickness: ``thin`` / ``medium`` / ``thick`` at the tertiles of the train split's thickness
  (one pair of cut points for all digits: a thick one and a thick eight use the same pen).
- slant: ``left`` / ``upright`` / ``right`` at fixed angles, -5 and +10 degrees, not at quantiles:
  the median MNIST digit already leans right (+8 degrees), so tertiles would call an upright digit
  "slanting to the left". These angles were picked by looking at train digits sorted by slant;
  they give about 20 % left, 35 % upright and 45 % right.
- width: ``narrow`` / ``medium`` / ``wide`` at the tertiles of each digit's own widths (a "wide
  one" is wide for a one; every one is narrower than every zero).

``THRESHOLDS`` holds the tertiles as constants, computed once with ``fit_thresholds`` on the
train split (``fit_thresholds(*_train_measurements())``; ``tests/test_text.py`` checks that they
still match), so the test split is described with cut points it did not choose.

The captions: each of the ten templates names the digit, a third of them as a numeral ("7") and
the others as a word ("seven"), which one rotating with the item; "the digit 7" always uses the
numeral. Synonyms rotate the same way (thick / bold / heavy, slanting to the right / leaning right /
tilted to the right, wide / broad ...). A medium level mostly goes unsaid ("a seven slanting to the
right" says nothing about thickness), and a few templates say it ("of medium thickness", "a
medium stroke", "of medium width"). Captions use only lowercase letters, digits, spaces, commas
and hyphens: characters the text encoder's alphabet holds.

Each item also carries ``"attributes"`` (the image's three levels as a LongTensor, in
``ATTRIBUTES`` order) and ``"mentions"`` (the levels its caption states, -1 where it says nothing),
so that a joint text-image objective knows which other captions of a batch also fit an image.

Example:
    >>> from zoo_core.data import load_dataset
    >>> train = load_dataset("mnist5k-captions", split="train")
    >>> item = train[0]
    >>> item["image"].shape, item["label"], item["caption"]
    (torch.Size([1, 28, 28]), 0, 'a handwritten 0, narrow and leaning right')
    >>> train.captions(0)[:2]
    ['a zero slanting to the right', 'a right-leaning zero']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from zoo_core import ZooError
from zoo_core.data import RandomItemsDataset

__all__ = [
    "ATTRIBUTES",
    "DIGIT_WORDS",
    "LEVELS",
    "THRESHOLDS",
    "CaptionedDigits",
    "attribute_prompts",
    "caption_specs",
    "captions_for",
    "digit_prompts",
    "fit_thresholds",
    "load_mnist5k_captions",
    "measure_attributes",
    "quantise",
]

#: the measured attributes, in the order of an item's ``"attributes"`` and ``"mentions"``
ATTRIBUTES: tuple[str, ...] = ("thickness", "slant", "width")
#: the three levels of each attribute (index 0, 1, 2)
LEVELS: dict[str, tuple[str, str, str]] = {
    "thickness": ("thin", "medium", "thick"),
    "slant": ("left", "upright", "right"),
    "width": ("narrow", "medium", "wide"),
}
DIGIT_WORDS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: cut points between the levels: ``value < low`` is level 0, ``value > high`` is level 2, else 1.
#: thickness and width are tertiles of the mnist5k train split (4,500 digits) measured by
#: ``measure_attributes`` and computed by ``fit_thresholds`` (width per digit); slant is fixed.
THRESHOLDS: dict[str, Any] = {
    "thickness": (1.7572, 2.1438),
    "slant": (-5.0, 10.0),
    "width": (
        (15.1765, 17.8089),
        (3.3697, 4.069),
        (13.024, 15.0991),
        (11.3911, 13.1756),
        (12.0789, 14.5241),
        (11.7829, 13.6678),
        (10.6898, 13.063),
        (11.0016, 13.4538),
        (9.9605, 11.8171),
        (9.9698, 11.9123),
    ),
}
SLANT_DEGREES = THRESHOLDS["slant"]

# -- measuring ---------------------------------------------------------------------------


def measure_attributes(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Thickness, slant and width of each digit, measured on its pixels (see the module docstring).

    Args:
        images: ``(N, 1, H, W)`` digits, white ink on black: uint8 in [0, 255] or floats in [0, 1].

    Returns:
        ``{"thickness": (N,), "slant": (N,), "width": (N,)}`` float tensors: the mean stroke width
        in pixels, the slant in degrees (positive: the top leans right) and the deskewed width in pixels.

    Example:
        >>> bar = torch.zeros(1, 1, 28, 28)
        >>> bar[..., 4:24, 12:15] = 1  # an upright bar 3 pixels wide, 20 high
        >>> {k: round(float(v), 2) for k, v in measure_attributes(bar).items()}
        {'thickness': 2.61, 'slant': 0.0, 'width': 3.0}
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ZooError(f"measure_attributes takes grey digits shaped (N, 1, H, W), not {shape}.")
    x = images.detach().to("cpu", torch.float64)
    if images.dtype == torch.uint8:
        x = x / 255.0
    x = x[:, 0]
    h, w = x.shape[-2:]
    rows = torch.arange(h, dtype=x.dtype).view(1, h, 1)
    cols = torch.arange(w, dtype=x.dtype).view(1, 1, w)
    m00 = x.sum((1, 2))
    safe = m00.clamp_min(1e-12)
    cx = (x * cols).sum((1, 2)) / safe
    cy = (x * rows).sum((1, 2)) / safe
    dx = cols - cx.view(-1, 1, 1)
    dy = rows - cy.view(-1, 1, 1)
    mu11 = (x * dx * dy).sum((1, 2)) / safe
    mu02 = (x * dy * dy).sum((1, 2)) / safe
    mu20 = (x * dx * dx).sum((1, 2)) / safe
    outline = (x[:, 1:, :] - x[:, :-1, :]).abs().sum((1, 2)) + (x[:, :, 1:] - x[:, :, :-1]).abs().sum((1, 2))
    # the outline also counts ink against the image border, as if the image were padded with black
    outline = outline + x[:, 0, :].sum(1) + x[:, -1, :].sum(1) + x[:, :, 0].sum(1) + x[:, :, -1].sum(1)
    thickness = 2 * m00 / outline.clamp_min(1e-12)
    shear = -mu11 / mu02.clamp_min(1e-12)
    slant = torch.rad2deg(torch.atan(shear)) + 0.0  # + 0.0: no -0.0
    width = (12 * (mu20 - mu11 * mu11 / mu02.clamp_min(1e-12)) + 1).clamp_min(0).sqrt()
    empty = m00 <= 0
    out = {"thickness": thickness, "slant": slant, "width": width}
    return {k: v.masked_fill(empty, 0.0).float() for k, v in out.items()}


def fit_thresholds(measurements: Mapping[str, torch.Tensor], labels: torch.Tensor) -> dict[str, Any]:
    """The cut points of ``THRESHOLDS`` computed from ``measurements`` (of the train split, for the constants).

    Thickness: the 1/3 and 2/3 quantiles of all digits; width: the same per digit 0-9; slant: the
    fixed angles of ``SLANT_DEGREES`` (not fitted, see the module docstring). Values are rounded
    to 4 decimals, as stored.

    Example:
        >>> from zoo_core.datasets import mnist5k
        >>> train = mnist5k.load("train")
        >>> fit_thresholds(measure_attributes(train.images), train.labels)["thickness"]
        (1.7572, 2.1438)
    """
    q = torch.tensor([1 / 3, 2 / 3], dtype=torch.float64)

    def tertiles(values: torch.Tensor) -> tuple[float, float]:
        low, high = torch.quantile(values.double(), q).tolist()
        return round(low, 4), round(high, 4)

    labels = torch.as_tensor(labels)
    return {
        "thickness": tertiles(measurements["thickness"]),
        "slant": tuple(SLANT_DEGREES),
        "width": tuple(tertiles(measurements["width"][labels == d]) for d in range(10)),
    }


def quantise(
    measurements: Mapping[str, torch.Tensor], labels: torch.Tensor, thresholds: Mapping[str, Any] | None = None
) -> torch.Tensor:
    """The level (0, 1, 2) of each attribute of each digit: a ``(N, 3)`` LongTensor in ``ATTRIBUTES`` order.

    Args:
        measurements: what ``measure_attributes`` returned.
        labels: ``(N,)`` digits 0-9 (width's cut points are per digit).
        thresholds: cut points as ``THRESHOLDS`` (the default).

    Example:
        >>> from zoo_core.datasets import mnist5k
        >>> train = mnist5k.load("train")
        >>> levels = quantise(measure_attributes(train.images), train.labels)
        >>> [LEVELS[a][int(i)] for a, i in zip(ATTRIBUTES, levels[0])]
        ['medium', 'right', 'narrow']
    """
    thresholds = THRESHOLDS if thresholds is None else thresholds
    labels = torch.as_tensor(labels, dtype=torch.long)
    columns = []
    for name in ATTRIBUTES:
        value = measurements[name].double()
        if name == "width":
            table = torch.tensor(thresholds["width"], dtype=torch.float64)
            low, high = table[labels, 0], table[labels, 1]
        else:
            low, high = (torch.tensor(float(t), dtype=torch.float64) for t in thresholds[name])
        columns.append((value >= low).long() + (value > high).long())
    return torch.stack(columns, dim=1)


# -- writing -----------------------------------------------------------------------------

_THICK_ADJ = {0: ("thin", "fine", "light"), 2: ("thick", "bold", "heavy")}
_THICK_STROKE = {
    0: ("a thin stroke", "a fine pen"),
    1: ("a medium stroke", "a regular pen"),
    2: ("a thick stroke", "a heavy pen"),
}
_THICK_PHRASE = {
    0: ("with thin strokes", "drawn with a thin pen"),
    1: ("of medium thickness", "with strokes of medium thickness"),
    2: ("with thick strokes", "drawn with a thick pen"),
}
_SLANT_PHRASE = {
    0: ("slanting to the left", "leaning left", "tilted to the left", "slanting left"),
    1: ("standing upright", "standing straight", "upright", "not slanted"),
    2: ("slanting to the right", "leaning right", "tilted to the right", "slanting right"),
}
_SLANT_ADJ = {0: ("left-leaning", "left-slanted"), 1: ("upright", "straight"), 2: ("right-leaning", "right-slanted")}
_WIDTH_ADJ = {0: ("narrow", "condensed"), 2: ("wide", "broad")}
_WIDTH_FULL = {0: ("narrow",), 1: ("of medium width", "of average width"), 2: ("wide", "broad")}
_AN_WORDS = ("eight", "8", "upright", "of")


def _a(word: str) -> str:
    """``"a"`` or ``"an"`` before ``word`` (by sound: an eight, an 8, an upright; a one)."""
    return "an" if word.split(" ", 1)[0] in _AN_WORDS else "a"


def _pick(options: tuple[str, ...], turn: int) -> str:
    return options[turn % len(options)]


def _levels(attributes: Mapping[str, Any] | Sequence[int] | torch.Tensor) -> tuple[int, int, int]:
    """Levels as three ints from names (``{"thickness": "thick", ...}``), ints, or a tensor row."""
    if isinstance(attributes, Mapping):
        out = []
        for name in ATTRIBUTES:
            if name not in attributes:
                raise ZooError(f"The attributes name no {name!r}; give {', '.join(ATTRIBUTES)}.")
            value = attributes[name]
            if isinstance(value, str):
                if value not in LEVELS[name]:
                    raise ZooError(f"{value!r} is not a level of {name}; its levels are {', '.join(LEVELS[name])}.")
                value = LEVELS[name].index(value)
            out.append(int(value))
    else:
        out = [int(v) for v in (attributes.tolist() if isinstance(attributes, torch.Tensor) else attributes)]
    if len(out) != 3 or not all(v in (0, 1, 2) for v in out):
        raise ZooError(f"Attribute levels must be three of 0, 1, 2 (in {ATTRIBUTES} order), not {out}.")
    return out[0], out[1], out[2]


def caption_specs(
    label: int, attributes: Mapping[str, Any] | Sequence[int] | torch.Tensor, variant: int = 0
) -> list[tuple[str, tuple[int, int, int]]]:
    """Ten captions of a digit, each with the levels it states (-1: not said), in ``ATTRIBUTES`` order.

    Args:
        label: the digit, 0-9.
        attributes: its levels: ``{"thickness": "thick", "slant": "right", "width": "medium"}``,
            or indices ``(2, 2, 1)``.
        variant: rotates the synonyms and which templates write the digit as a numeral (the
            dataset passes the item's index, so that alike digits get differently worded captions).

    Example:
        >>> caption_specs(7, (2, 2, 1))[0]
        ('a thick seven slanting to the right', (2, 2, -1))
    """
    if isinstance(label, bool) or int(label) != label or not 0 <= int(label) <= 9:
        raise ZooError(f"A digit label is 0-9, not {label!r}.")
    label = int(label)
    t, s, w = _levels(attributes)
    v = int(variant)
    word, numeral = DIGIT_WORDS[label], str(label)

    def digit(k: int) -> str:  # a third of the templates write the numeral, which ones rotating with v
        return numeral if (k + v) % 3 == 2 else word

    thick = _pick(_THICK_ADJ[t], v) if t != 1 else ""
    wide = _pick(_WIDTH_ADJ[w], v) if w != 1 else ""
    mt, mw = (t if t != 1 else -1), (w if w != 1 else -1)  # a medium level left unsaid is not stated
    out: list[tuple[str, tuple[int, int, int]]] = []

    def add(text: str, stated: tuple[int, int, int]) -> None:
        out.append((" ".join(text.split()).replace(" ,", ","), stated))

    d = digit(0)  # "a thick seven slanting to the right"
    add(f"{_a(thick or d)} {thick} {d} {_pick(_SLANT_PHRASE[s], v)}", (mt, s, -1))
    d, slant_adj = digit(1), _pick(_SLANT_ADJ[s], v)  # "a thin upright two"
    add(f"{_a(thick or slant_adj)} {thick} {slant_adj} {d}", (mt, s, -1))
    pair = " and ".join(x for x in (wide, thick) if x)  # "the digit 3, narrow and thin"
    add(f"the digit {numeral}{', ' + pair if pair else ''}", (mt, -1, mw))
    d = digit(3)  # "a wide zero", "a zero of medium width"
    add(f"{_a(wide or d)} {wide} {d}" if w != 1 else f"{_a(d)} {d} {_pick(_WIDTH_FULL[1], v)}", (-1, -1, w))
    d = digit(4)  # the digit alone
    add(_pick((f"the number {d}", f"a handwritten {d}", f"{_a(d)} {d}"), v), (-1, -1, -1))
    d = digit(5)  # everything: "a handwritten five, thick, wide and leaning right"
    parts = ", ".join(x for x in (thick, wide) if x)
    add(f"a handwritten {d}, {parts + ' and ' if parts else ''}{_pick(_SLANT_PHRASE[s], v + 1)}", (mt, s, mw))
    stroke = _pick(_THICK_STROKE[t], v)  # "7 written with a thick stroke, leaning right"
    add(f"{numeral} written with {stroke}, {_pick(_SLANT_PHRASE[s], v + 2)}", (t, s, -1))
    d = digit(7)  # "a seven with thick strokes", "a seven of medium thickness"
    add(f"{_a(d)} {d} {_pick(_THICK_PHRASE[t], v)}", (t, -1, -1))
    d, slant_adj = digit(8), _pick(_SLANT_ADJ[s], v + 1)  # "an upright wide eight"
    add(f"{_a(slant_adj)} {slant_adj} {wide} {d}", (-1, s, mw))
    d, slant = digit(9), _pick(_SLANT_PHRASE[s], v + 3)  # "a seven that is wide and leaning right"
    if w == 1:
        add(f"{_a(d)} {d} {_pick(_WIDTH_FULL[w], v)}, {slant}", (-1, s, w))
    else:
        add(f"{_a(d)} {d} that is {_pick(_WIDTH_FULL[w], v)} and {slant}", (-1, s, w))
    return out


def captions_for(
    label: int, attributes: Mapping[str, Any] | Sequence[int] | torch.Tensor, variant: int = 0
) -> list[str]:
    """Ten English captions of a digit with the given attribute levels (see ``caption_specs``).

    Example:
        >>> captions_for(7, {"thickness": "thick", "slant": "right", "width": "wide"})[:3]
        ['a thick seven slanting to the right', 'a thick right-leaning seven', 'the digit 7, wide and thick']
        >>> captions_for(2, {"thickness": "thin", "slant": "upright", "width": "narrow"}, variant=1)[1]
        'a fine straight 2'
    """
    return [text for text, _ in caption_specs(label, attributes, variant)]


def digit_prompts(label: int) -> list[str]:
    """Captions that name only the digit (for zero-shot digit retrieval).

    Example:
        >>> digit_prompts(8)
        ['an eight', 'an 8', 'the digit 8', 'the number eight', 'a handwritten eight']
    """
    word, numeral = DIGIT_WORDS[label], str(label)
    return [
        f"{_a(word)} {word}",
        f"{_a(numeral)} {numeral}",
        f"the digit {numeral}",
        f"the number {word}",
        f"a handwritten {word}",
    ]


def attribute_prompts(label: int, attribute: str, level: int) -> list[str]:
    """Captions of digit ``label`` that state one attribute at ``level`` and nothing else.

    Example:
        >>> attribute_prompts(7, "slant", 2)[:2]
        ['a seven slanting to the right', 'a seven leaning right']
    """
    word = DIGIT_WORDS[label]
    if attribute == "thickness":
        texts = [f"{word} {p}" for p in _THICK_PHRASE[level]]
        texts = [f"{_a(word)} {x}" for x in texts] + [f"{label} written with {p}" for p in _THICK_STROKE[level]]
        if level != 1:
            texts += [f"{_a(adj)} {adj} {word}" for adj in _THICK_ADJ[level]]
        return texts
    if attribute == "slant":
        return [f"{_a(word)} {word} {p}" for p in _SLANT_PHRASE[level]] + [
            f"{_a(adj)} {adj} {word}" for adj in _SLANT_ADJ[level]
        ]
    if attribute == "width":
        if level == 1:
            return [f"{_a(word)} {word} {p}" for p in _WIDTH_FULL[level]]
        return [f"{_a(word)} {word} that is {p}" for p in _WIDTH_FULL[level]] + [
            f"{_a(adj)} {adj} {word}" for adj in _WIDTH_ADJ[level]
        ]
    raise ZooError(f"Unknown attribute {attribute!r}; the attributes are {', '.join(ATTRIBUTES)}.")


# -- the dataset -------------------------------------------------------------------------


class CaptionedDigits(RandomItemsDataset):
    """Digits with ten captions each; an item carries one of them (see the module docstring).

    ``pick="random"`` (the default for ``train``) draws the caption from the item's seeded
    generator, so item ``i`` of epoch ``e`` is the same for the same ``seed``; ``pick="first"``
    (the default elsewhere) always gives the first caption, for a fixed evaluation.

    Example:
        >>> data = load_mnist5k_captions("train", seed=0)
        >>> data.set_epoch(1)
        >>> data[3]["caption"] in data.captions(3)
        True
    """

    kind = "captioned"

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        levels: torch.Tensor,
        *,
        name: str = "mnist5k-captions",
        split: str = "train",
        seed: int = 0,
        pick: str | None = None,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ZooError(
                f"CaptionedDigits takes uint8 images (N, C, H, W), not {images.dtype} {tuple(images.shape)}."
            )
        if not len(images) == len(labels) == len(levels):
            raise ZooError(f"{len(images)} images, {len(labels)} labels and {len(levels)} levels; they must match.")
        self.pick = pick or ("random" if split == "train" else "first")
        if self.pick not in ("random", "first"):
            raise ZooError(f"pick must be 'random' or 'first', not {pick!r}.")
        self.images, self.labels, self.levels = images, labels.long(), levels.long()
        self.name, self.split, self.seed = name, split, int(seed)
        self.channels = images.shape[1]
        self.image_size = (images.shape[2], images.shape[3])
        self._specs = [
            caption_specs(int(lab), lev, variant=i) for i, (lab, lev) in enumerate(zip(labels, levels, strict=True))
        ]

    def __len__(self) -> int:
        return len(self.images)

    def captions(self, index: int) -> list[str]:
        """All ten captions of item ``index`` (the first is the one ``pick="first"`` gives)."""
        return [text for text, _ in self._specs[index]]

    def caption_index(self, index: int) -> int:
        """Which of item ``index``'s captions it carries in the current epoch."""
        if self.pick == "first":
            return 0
        return int(torch.randint(0, len(self._specs[index]), (1,), generator=self.generator(index)))

    def attributes(self, index: int) -> dict[str, str]:
        """Item ``index``'s attribute levels by name, e.g. ``{"thickness": "thick", ...}``."""
        return {name: LEVELS[name][int(i)] for name, i in zip(ATTRIBUTES, self.levels[index], strict=True)}

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = int(index)
        text, stated = self._specs[index][self.caption_index(index)]
        return {
            "image": self.images[index].float().div_(255.0),
            "label": int(self.labels[index]),
            "caption": text,
            "attributes": self.levels[index].clone(),
            "mentions": torch.tensor(stated, dtype=torch.long),
        }


def load_mnist5k_captions(
    split: str = "train", size: int = 28, seed: int = 0, pick: str | None = None
) -> CaptionedDigits:
    """mnist5k's ``split`` (train, test or all) with ten captions per digit.

    Args:
        split: train (4,500 digits), test (the last 50 of each class, 500) or all.
        size: the side of the images (resized as mnist5k resizes them); the attributes are always
            measured on the original 28x28 digits.
        seed: fixes which caption each item draws in each epoch.
        pick: ``"random"`` (default for train) or ``"first"`` (default otherwise).

    Example:
        >>> data = load_mnist5k_captions("test", size=64)
        >>> data.image_size, data[0]["caption"]
        ((64, 64), 'a thick zero standing upright')
    """
    from zoo_core.datasets import mnist5k

    original = mnist5k.load(split, 28)
    levels = quantise(measure_attributes(original.images), original.labels)
    images = original.images if size == 28 else mnist5k.load(split, size).images
    return CaptionedDigits(images, original.labels, levels, split=split, seed=seed, pick=pick)


def _train_measurements() -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The train split's measurements and labels (what ``THRESHOLDS`` was fitted on)."""
    from zoo_core.datasets import mnist5k

    train = mnist5k.load("train", 28)
    return measure_attributes(train.images), train.labels
