"""``zoo translate`` and ``zoo upscale``: image-to-image models applied to image files and folders.

The command line reads each image, gives the model what it takes, and writes what it returns:

- **Channels.** An image is read as grey or RGB, whichever the model takes (PIL's ``L`` / ``RGB``
  conversions: ITU-R 601 luma for RGB to grey, a copy of the grey level for grey to RGB). An
  alpha channel that is fully opaque is dropped; one with transparent pixels is refused, since
  no model here knows what lies behind them. A model that takes other than 1 or 3 channels
  cannot be fed image files.
- **Size.** Any size of at least ``model.min_size`` pixels a side (default 1). A model declares
  ``size_multiple`` (default 1), the multiple of which its network needs the sides to be
  (pix2pix's ``unet_256``: 256); the image is padded on the bottom and right to the next
  multiple, by reflection where the image is large enough and by repeating its edge where it
  is not, and the result is cropped back, at the model's scale (4x the input for an x4
  super-resolution model). Large images for super-resolution are tiled by the model's own
  ``upscale`` (``translate`` does the same for SR models).
- **Direction.** ``--direction AtoB|BtoA`` is passed to models whose ``translate`` takes a
  ``direction`` (CycleGAN's two generators); the image is then read with the channels of that
  direction's input (``output_nc`` for ``BtoA``). A model that translates one way only refuses it.
- **Randomness.** Each image is translated under ``torch.manual_seed(seed)`` in a forked
  generator (and ``seed`` is passed to a ``translate`` that takes one, as pix2pix's), so
  test-time dropout gives the same output for the same image and seed whatever else runs, and
  the global generator is left as it was.
- **Writing.** Every input is checked (readable, big enough, names that do not collide) before
  the first image is translated, and each output is written atomically (a temporary file
  renamed into place), so a failure never leaves a half-written file. A folder of inputs shows
  a progress bar (on a terminal) and keeps its sub-folders under ``-o``; outputs in a folder are
  PNG files; ``-o FILE.jpg`` with a single input image writes that file, in that format.

Every failure is a ``ZooError`` with one sentence: the CLI prints it and exits with code 1.

Example:
    >>> import zoo_core as zoo
    >>> from zoo_core.translate import translate_images
    >>> model = zoo.load("pix2pix.colorize")
    >>> translate_images(model, torch.rand(1, 1, 300, 451)).shape  # padded to 384x512 inside, cropped back
    torch.Size([1, 3, 300, 451])
    $ zoo translate pix2pix.colorize old-photos/ -o coloured/
    $ zoo upscale srgan.x4_photos small.png -o big.png
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import atomic_write_bytes
from ._errors import ZooError

if TYPE_CHECKING:
    import torch

__all__ = [
    "DIRECTIONS",
    "Job",
    "input_channels",
    "match_channels",
    "pad_to_multiple",
    "plan_jobs",
    "read_image",
    "translate_files",
    "translate_images",
]

DIRECTIONS = ("AtoB", "BtoA")
#: what ``zoo translate`` reads in folders (other files are skipped)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
#: ITU-R 601-2 luma, as PIL's RGB -> L
LUMA = (0.299, 0.587, 0.114)


# -- tensors ------------------------------------------------------------------------------------
def match_channels(x: torch.Tensor, channels: int | None, what: str = "model") -> torch.Tensor:
    """``x`` (``(N, C, H, W)``) with ``channels`` channels: grey copied to RGB, RGB to its luma, else an error.

    Example:
        >>> match_channels(torch.rand(2, 1, 8, 8), 3).shape
        torch.Size([2, 3, 8, 8])
    """
    import torch

    got = x.shape[1]
    if channels is None or got == channels:
        return x
    if (got, channels) == (1, 3):
        return x.expand(-1, 3, -1, -1)
    if (got, channels) == (3, 1):
        weights = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(dim=1, keepdim=True)
    takes = {1: "grey images (1 channel)", 3: "RGB images (3 channels)"}.get(channels, f"{channels}-channel images")
    raise ZooError(f"The {what} takes {takes}, got {got} channels; drop the alpha channel or convert the images first.")


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """``x`` padded on the bottom and right so that H and W are multiples of ``multiple``.

    Reflection where the image is larger than the padding, else its edge repeated (a reflection
    cannot be wider than the image). Crop the result back with ``[..., :h * s, :w * s]``.

    Example:
        >>> pad_to_multiple(torch.rand(1, 3, 300, 451), 128).shape
        torch.Size([1, 3, 384, 512])
    """
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if not pad_h and not pad_w:
        return x
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


def input_channels(model: Any, direction: str | None = None) -> int | None:
    """The channels ``model`` takes (in ``direction``): its config's ``output_nc`` for ``BtoA``, else its
    ``input_channels``, else its config's ``input_nc`` or ``channels``; ``None`` when it does not say.
    With no ``direction``, a model that lists its ``held_directions`` (CycleGAN) translates in the first.

    Example:
        >>> input_channels(zoo.create("pix2pix", input_nc=1, output_nc=3), "AtoB")
        1
    """
    config = getattr(model, "config", None)
    if direction is None and getattr(model, "held_directions", None):
        direction = model.held_directions[0]  # a BtoA-only CycleGAN reads images of its output_nc
    if direction == "BtoA" and isinstance(getattr(config, "output_nc", None), int):
        return int(config.output_nc)
    declared = getattr(model, "input_channels", None)
    if isinstance(declared, int) and not isinstance(declared, bool):
        return declared
    for key in ("input_nc", "channels"):
        value = getattr(config, key, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _takes(function: Any, keyword: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return keyword in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def _verb(model: Any, verb: str, name: str) -> Any:
    function = getattr(model, verb, None)
    if callable(function):
        return function
    tasks = ", ".join(getattr(model, "tasks", ())) or "none"
    if verb == "upscale":
        raise ZooError(f"{name} is not a super-resolution model (it has no upscale; its tasks: {tasks}).")
    raise ZooError(f"{name} does not translate images (its tasks: {tasks}); pick an image-to-image model.")


def _check_direction(model: Any, verb: str, direction: str | None, name: str) -> None:
    if direction is None:
        return
    if direction not in DIRECTIONS:
        raise ZooError(f"direction must be 'AtoB' or 'BtoA', not {direction!r}.")
    if not _takes(_verb(model, verb, name), "direction"):
        raise ZooError(f"{name} translates in one direction only; drop --direction.")


@contextlib.contextmanager
def _seeded(seed: int | None, device: Any) -> Iterator[None]:
    """``torch.manual_seed(seed)`` inside a forked generator (the global one is restored afterwards)."""
    import torch

    if seed is None:
        yield
        return
    devices = [device] if getattr(device, "type", "cpu") == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def translate_images(
    model: Any,
    x: torch.Tensor,
    *,
    direction: str | None = None,
    verb: str = "translate",
    seed: int | None = 0,
    name: str = "The model",
) -> torch.Tensor:
    """``model.translate`` (or ``model.upscale``) on images of any size: channels matched, padded, cropped back.

    ``x`` is float ``(N, C, H, W)`` or ``(C, H, W)`` in [0, 1]; the result has the same layout,
    in [0, 1], at the model's scale. See the module docstring for each step.

    Example:
        >>> translate_images(zoo.load("pix2pix.colorize"), torch.rand(3, 100, 70)).shape
        torch.Size([3, 100, 70])
    """
    import torch

    if not isinstance(x, torch.Tensor) or x.dim() not in (3, 4):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ZooError(f"{name} takes images shaped (N, C, H, W) or (C, H, W), not {shape}.")
    if not x.is_floating_point():
        raise ZooError(f"{name} takes float images in [0, 1], not {x.dtype}; divide 8-bit images by 255 first.")
    function = _verb(model, verb, name)
    _check_direction(model, verb, direction, name)
    single = x.dim() == 3
    batch = x.unsqueeze(0) if single else x
    batch = match_channels(batch, input_channels(model, direction), what=name.removeprefix("The "))
    h, w = batch.shape[-2:]
    smallest = _int_attribute(model, "min_size", 1)
    if min(h, w) < smallest:
        raise ZooError(
            f"{name} takes images of at least {smallest}x{smallest} pixels, got {h}x{w}; "
            "a smaller image holds too little to translate."
        )
    padded = pad_to_multiple(batch, _int_attribute(model, "size_multiple", 1))
    kwargs: dict[str, Any] = {"direction": direction} if direction is not None else {}
    if _takes(function, "seed"):  # a model that seeds its own noise (pix2pix's test-time dropout)
        kwargs["seed"] = seed
    device = getattr(model, "device", torch.device("cpu"))
    with _seeded(seed, device), torch.inference_mode():
        out = function(padded, **kwargs)
    if not isinstance(out, torch.Tensor) or out.dim() != 4 or out.shape[0] != padded.shape[0]:
        raise ZooError(f"{name} returned {type(out).__name__} for a batch of images; the plugin is inconsistent.")
    scale_h, rest_h = divmod(out.shape[-2], padded.shape[-2])
    scale_w, rest_w = divmod(out.shape[-1], padded.shape[-1])
    if rest_h or rest_w or scale_h != scale_w or scale_h < 1:
        raise ZooError(
            f"{name} returned {out.shape[-2]}x{out.shape[-1]} images for {padded.shape[-2]}x{padded.shape[-1]} "
            "inputs (not a whole-number scale); its plugin should declare size_multiple."
        )
    out = out[..., : h * scale_h, : w * scale_w].float().clamp(0, 1)
    return out[0] if single else out


def _int_attribute(model: Any, key: str, default: int) -> int:
    value = getattr(model, key, default)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else default


# -- files ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """One image to translate: where it is read, where its output is written."""

    source: Path
    target: Path


def _list_folder(folder: Path) -> list[Path]:
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise ZooError(f"{folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); check the path.")
    return files


def _writable_suffix(path: Path) -> None:
    from PIL import Image

    if path.suffix.lower() not in Image.registered_extensions() or path.suffix.lower() in (".gif", ".pgm", ".ppm"):
        raise ZooError(
            f"{path} does not end in a suffix zoo writes images in (.png, .jpg, .bmp, .tif, .webp); "
            "rename it, or give a folder."
        )


def plan_jobs(inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]) -> list[Job]:
    """Where each input image's output goes (see the module docstring); fails before anything is written.

    Example:
        >>> plan_jobs(["photos/"], "out")[0]
        Job(source=PosixPath('photos/a.jpg'), target=PosixPath('out/a.png'))
    """
    if not inputs:
        raise ZooError("Give at least one image or folder to translate.")
    output = Path(output)
    sources: list[tuple[Path, Path]] = []  # (file, path relative to the output folder)
    folders = False
    for item in map(Path, inputs):
        if item.is_dir():
            folders = True
            sources += [(f, f.relative_to(item).with_suffix(".png")) for f in _list_folder(item)]
        elif item.is_file():
            sources.append((item, Path(item.name).with_suffix(".png")))
        else:
            raise ZooError(f"{item} does not exist; give image files or folders.")
    to_file = not folders and len(sources) == 1 and output.suffix.lower() in IMAGE_SUFFIXES and not output.is_dir()
    if to_file:
        _writable_suffix(output)
        return [Job(sources[0][0], output)]
    if output.is_file() or (output.suffix.lower() in IMAGE_SUFFIXES and not output.exists()):
        raise ZooError(f"{output} names a file, but there are {len(sources)} images to write; give a folder with -o.")
    jobs, seen = [], {}
    for source, relative in sources:
        target = output / relative
        if target in seen:
            raise ZooError(
                f"{seen[target]} and {source} would both be written to {target}; translate them in separate runs."
            )
        seen[target] = source
        jobs.append(Job(source, target))
    return jobs


def _open_error(path: Path, exc: BaseException) -> ZooError:
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        reason = "its format is unknown or it is damaged"
    else:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ZooError(f"{path} is not an image that can be read ({reason}); remove or replace it.")


def _probe(path: Path, smallest: int, name: str) -> None:
    """Check what the header says (format, size) without decoding the pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            w, h = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _open_error(path, exc) from exc
    if min(w, h) < smallest:
        raise ZooError(
            f"{path} is {h}x{w} pixels, smaller than the {smallest}x{smallest} that {name} takes; "
            "a smaller image holds too little to translate."
        )


def _check_file_channels(channels: int | None) -> None:
    if channels not in (None, 1, 3):
        raise ZooError(
            f"This model takes {channels}-channel images, which image files do not hold (grey or RGB); "
            "call its translate() on tensors instead."
        )


def read_image(path: str | os.PathLike[str], channels: int | None) -> torch.Tensor:
    """An image file as floats in [0, 1], ``(channels, H, W)`` (``None``: grey stays grey, the rest RGB).

    Fully decoded (a truncated file fails here) and turned upright by its EXIF orientation;
    16-bit grey is scaled, not clipped; an alpha channel is dropped when every pixel is opaque
    and refused otherwise.

    Example:
        >>> read_image("chelsea.png", 1).shape
        torch.Size([1, 300, 451])
    """
    import numpy as np
    import torch
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    _check_file_channels(channels)
    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)  # a photo as viewers show it (camera orientation applied)
            if image.mode == "P" and "transparency" in image.info:
                image = image.convert("RGBA")
            if "A" in image.getbands():
                alpha = image.getchannel("A")
                if alpha.getextrema()[0] < 255:
                    raise ZooError(
                        f"{path} has transparent pixels (an alpha channel); the model takes "
                        f"{'grey' if channels == 1 else 'RGB'} images: flatten it onto a background first."
                    )
            if image.mode.startswith("I;16"):
                array = np.asarray(image, dtype=np.float32) / 65535.0
                grey = torch.from_numpy(array.copy())[None]
                return grey.expand(3, -1, -1).contiguous() if channels == 3 else grey
            grey_source = image.mode in ("1", "L", "LA", "I", "F")
            mode = "L" if channels == 1 or (channels is None and grey_source) else "RGB"
            array = np.asarray(image.convert(mode))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _open_error(path, exc) from exc
    tensor = torch.from_numpy(array.copy())
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
    return tensor.float().div_(255.0)


def _encode(image: torch.Tensor, target: Path) -> bytes:
    import torch
    from PIL import Image

    pixels = (image.detach().float().cpu().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)
    array = pixels.permute(1, 2, 0).numpy()
    picture = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    buffer = io.BytesIO()
    picture.save(buffer, format=Image.registered_extensions()[target.suffix.lower()])
    return buffer.getvalue()


def translate_files(
    model: Any,
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    direction: str | None = None,
    verb: str = "translate",
    seed: int = 0,
    name: str = "the model",
    progress: bool | None = None,
) -> list[Job]:
    """Translate (or upscale) image files and folders into ``output``; returns what was written.

    Example:
        >>> translate_files(zoo.load("pix2pix.colorize"), ["old.jpg"], "new.png")
        [Job(source=PosixPath('old.jpg'), target=PosixPath('new.png'))]
    """
    from tqdm.auto import tqdm

    _check_direction(model, verb, direction, name)
    _verb(model, verb, name)
    channels = input_channels(model, direction)
    _check_file_channels(channels)
    jobs = plan_jobs(inputs, output)
    smallest = _int_attribute(model, "min_size", 1)
    for job in jobs:
        _probe(job.source, smallest, name)
    bar = tqdm(jobs, desc=verb, unit="image", disable=True if progress is False else (None if len(jobs) > 1 else True))
    for job in bar:
        image = read_image(job.source, channels)
        out = translate_images(model, image, direction=direction, verb=verb, seed=seed, name=f"The model {name}")
        atomic_write_bytes(job.target, _encode(out, job.target))
    return jobs
