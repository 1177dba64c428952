"""``zoo translate`` and ``zoo upscale``: image-to-image models applied to image files and folders.

The command line reads each image, gives the model what it takes, and writes what it returns:

Only the image-to-image contract (``zoo_core.tasks.ImageToImage``) is read: ``translate``,
``input_channels``, ``output_channels``, ``size_multiple``, ``min_size``, ``directions`` and ``scale``.

- **Channels.** An image is read as grey or RGB, whichever the model takes (PIL's ``L`` / ``RGB``
  conversions: ITU-R 601 luma for RGB to grey, a copy of the grey level for grey to RGB). An
  alpha channel that is fully opaque is dropped; one with transparent pixels is refused, since
  no model here knows what lies behind them. A model that takes other than 1 or 3 channels
  cannot be fed image files.
- **Size.** Any size of at least ``model.min_size`` pixels a side. A model declares
  ``size_multiple``, the multiple of which its network needs the sides to be
  (pix2pix's ``unet_256``: 256); the image is padded on the bottom and right to the next
  multiple, by reflection where the image is large enough and by repeating its edge where it
  is not, and the result is cropped back, at the model's scale (4x the input for an x4
  super-resolution model). ``zoo upscale`` takes models whose ``scale`` is above 1; a large
  image is tiled by the model's own ``translate``.
- **Direction.** ``--direction AtoB|BtoA`` must be one of the model's ``directions`` (CycleGAN's
  two generators); the image is then read with the channels of that direction's input
  (``output_channels`` for ``BtoA``). With none given, a model translates in the first of its
  ``directions``. A model that translates one way (``directions == ()``) refuses it.
- **Randomness.** ``seed`` is passed to ``translate``, which runs under ``torch.manual_seed(seed)``
  in a forked generator (``zoo_core.modeling.seeded``), so test-time dropout gives the same output
  for the same image and seed whatever else runs, and the global generator is left as it was.
- **Checking.** Before the model is loaded, every input is opened and decoded once (a file that
  is not an image, is truncated, or has more than ``MAX_IMAGE_PIXELS``, 8192x8192, is refused:
  a decompression bomb never reaches the decoder) and every output path is checked: names do
  not collide, no output is an input (same real path or same inode: symlinks and hard links
  included; ``-o`` is not an input folder), and each can be written (not under a file, not a
  folder or device, in a writable folder). ``--in-place`` lifts the input rule: an output may
  then replace its own input (in a folder run, outputs are PNG files, so that replaces the PNG
  inputs; the others get a PNG beside them). An ``-o`` folder inside an input folder is not
  read as input. With the model loaded, sizes are checked against its ``min_size`` and its
  output against ``MAX_IMAGE_PIXELS``, still before the first image is translated.
- **Writing.** Each output is written atomically (a temporary file beside it, renamed into
  place), so a failure, a full disk or Ctrl-C never leaves a half-written or temporary file;
  the outputs of the images before it stay, complete. A folder of inputs keeps its
  sub-folders under ``-o``; outputs in a folder are PNG files; ``-o FILE.jpg`` with a single
  input image writes that file, in that format.
- **Progress.** On a terminal (stderr a TTY; never when piped), a run of several images shows a
  tqdm bar with its ETA, and ``progress=True`` is passed to ``translate`` (a tiled super-resolution
  model shows the tiles of a large image).

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
import io
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import check_output_path, same_file, write_output
from ._errors import ZooError

if TYPE_CHECKING:
    import torch

    from .tasks import ImageToImage

__all__ = [
    "DIRECTIONS",
    "MAX_IMAGE_PIXELS",
    "Job",
    "encode_image",
    "input_channels",
    "list_images",
    "match_channels",
    "new_folders",
    "pad_to_multiple",
    "plan_jobs",
    "prepare_jobs",
    "probe_image",
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


def input_channels(model: ImageToImage, direction: str | None = None) -> int:
    """The channels ``model`` takes in ``direction``: its ``output_channels`` for ``BtoA``, else its
    ``input_channels``. With no ``direction``, a model translates in the first of its ``directions``.

    Example:
        >>> input_channels(zoo.create("pix2pix", input_nc=1, output_nc=3))
        1
    """
    if direction is None and model.directions:
        direction = model.directions[0]  # a BtoA-only CycleGAN reads images of its output_channels
    if direction == "BtoA":
        return _positive(model.output_channels, "output_channels")
    return _positive(model.input_channels, "input_channels")


def _positive(value: object, key: str) -> int:
    """A contract attribute's value (``min_size``, ``scale`` ...), which must be an int >= 1, or one sentence."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ZooError(f"The model declares {key}={value!r}, not a whole number >= 1; its plugin is inconsistent.")
    return value


def _check_model(model: Any, verb: str, name: str) -> None:
    """Fail unless ``model`` serves image-to-image (and, for ``upscale``, has a ``scale`` above 1)."""
    from .modeling import ZooModel

    tasks = model.tasks if isinstance(model, ZooModel) else ()
    if "image-to-image" not in tasks:
        raise ZooError(
            f"{name} does not translate images (its tasks: {', '.join(tasks) or 'none'}); pick an image-to-image model."
        )
    if verb == "upscale" and _positive(model.scale, "scale") == 1:
        raise ZooError(f"{name} is not a super-resolution model (its scale is 1); use `zoo translate`.")


def _check_direction(model: ImageToImage, direction: str | None, name: str) -> None:
    if direction is None:
        return
    if direction not in DIRECTIONS:
        raise ZooError(f"direction must be 'AtoB' or 'BtoA', not {direction!r}.")
    held = tuple(model.directions)
    if not held:
        raise ZooError(f"{name} translates in one direction only; drop --direction.")
    if direction not in held:
        raise ZooError(f"{name} translates {' and '.join(held)} only, not {direction}; use --direction {held[0]}.")


def _check_options(model: ImageToImage, options: Mapping[str, Any] | None, name: str) -> None:
    """Fail in one sentence on a keyword the model's ``translate_options`` does not declare."""
    declared = dict(getattr(model, "translate_options", None) or {})
    for key in options or {}:
        if key not in declared:
            takes = f"takes only {', '.join(sorted(declared))}" if declared else "takes no option"
            raise ZooError(f"{name} {takes}, not {key!r}; drop --option {key}.")


def translate_images(
    model: ImageToImage,
    x: torch.Tensor,
    *,
    direction: str | None = None,
    verb: str = "translate",
    seed: int | None = 0,
    name: str = "The model",
    progress: bool = False,
    options: Mapping[str, Any] | None = None,
) -> torch.Tensor:
    """``model.translate`` on images of any size: channels matched, padded, cropped back.

    ``x`` is float ``(N, C, H, W)`` or ``(C, H, W)`` in [0, 1]; the result has the same layout,
    in [0, 1], at the model's scale. See the module docstring for each step. ``verb="upscale"``
    refuses a model whose ``scale`` is 1; ``seed`` and ``progress`` are passed on to ``translate``, and so are
    ``options``, keywords the model declares in ``translate_options`` (any other is refused before it runs).

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
    _check_model(model, verb, name)
    _check_direction(model, direction, name)
    _check_options(model, options, name)
    single = x.dim() == 3
    batch = x.unsqueeze(0) if single else x
    batch = match_channels(batch, input_channels(model, direction), what=name.removeprefix("The "))
    h, w = batch.shape[-2:]
    smallest = _positive(model.min_size, "min_size")
    if min(h, w) < smallest:
        raise ZooError(
            f"{name} takes images of at least {smallest}x{smallest} pixels, got {h}x{w}; "
            "a smaller image holds too little to translate."
        )
    padded = pad_to_multiple(batch, _positive(model.size_multiple, "size_multiple"))
    out = model.translate(padded, direction=direction, seed=seed, progress=progress, **(options or {}))
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


# -- files ----------------------------------------------------------------------------------------
#: the most pixels zoo reads from one image file or writes to one (8192 x 8192): a larger header is a
#: decompression bomb, or more than a translation holds in memory; shrink or split such an image first
MAX_IMAGE_PIXELS = 8192 * 8192


@dataclass(frozen=True)
class Job:
    """One image to translate: where it is read, where its output is written (``size``: (width, height))."""

    source: Path
    target: Path
    size: tuple[int, int] | None = field(default=None, repr=False, compare=False)


def _inside(path: Path, folder: Path) -> tuple[str, ...] | None:
    """``path``'s parts relative to ``folder`` when it lies inside it (real paths), else ``None``."""
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(folder))
    return None if relative == os.pardir or relative.startswith(os.pardir + os.sep) else Path(relative).parts


def list_images(folder: Path, output: Path) -> list[Path]:
    """The image files under ``folder`` (sub-folders too, sorted, hidden ones skipped), except those inside the
    ``output`` folder of the same run."""
    skip = _inside(output, folder)  # an -o folder inside the input folder is never read as input
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and not (skip and p.relative_to(folder).parts[: len(skip)] == skip)
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


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _protect_inputs(jobs: list[Job], in_place: bool) -> list[Job]:
    """Refuse any output that is an input file (same device and inode: hard links and symlinks included),
    except, with ``in_place``, a job's own input, which is then replaced where it really lies."""
    inputs = {_file_key(job.source): job.source for job in jobs}
    checked = []
    for job in jobs:
        key = _file_key(job.target)
        victim = inputs.get(key) if key is not None else None
        if victim is None:
            checked.append(job)
        elif key == _file_key(job.source) and in_place:
            checked.append(Job(job.source, Path(os.path.realpath(job.target)), job.size))
        elif key == _file_key(job.source):
            raise ZooError(
                f"{job.target} is the input {job.source}: writing it would destroy the input; choose another -o, "
                "or pass --in-place to replace each input with its output."
            )
        else:
            raise ZooError(
                f"{job.target} would be overwritten by the output of {job.source}, but it is the input {victim}; "
                "choose another -o."
            )
    return checked


def plan_jobs(
    inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], *, in_place: bool = False
) -> list[Job]:
    """Where each input image's output goes (see the module docstring); fails before anything is written.

    No output may be an input (same real path or inode) unless ``in_place`` lets each output replace its
    own input; every output path must be writable (not under a file, not a folder or device).

    Example:
        >>> plan_jobs(["photos/"], "out")[0]
        Job(source=PosixPath('photos/a.jpg'), target=PosixPath('out/a.png'))
    """
    if not inputs:
        raise ZooError("Give at least one image or folder to translate.")
    output = Path(output)
    sources: list[tuple[Path, Path]] = []  # (file, path relative to the output folder)
    folders: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            folders.append(item)
            sources += [(f, f.relative_to(item).with_suffix(".png")) for f in list_images(item, output)]
        elif item.is_file():
            sources.append((item, Path(item.name).with_suffix(".png")))
        else:
            raise ZooError(f"{item} does not exist; give image files or folders.")
    to_file = not folders and len(sources) == 1 and output.suffix.lower() in IMAGE_SUFFIXES and not output.is_dir()
    if to_file:
        _writable_suffix(output)
        jobs = [Job(sources[0][0], output)]
    else:
        if output.is_file() or (output.suffix.lower() in IMAGE_SUFFIXES and not output.exists()):
            count = "is 1 image" if len(sources) == 1 else f"are {len(sources)} images"
            raise ZooError(f"{output} names a file, but there {count} to write; give a folder with -o.")
        for folder in folders:
            if not in_place and (same_file(output, folder) or _inside(output, folder) == ()):
                raise ZooError(
                    f"-o {output} is the input folder {folder}: the outputs would overwrite or mix with its images; "
                    "choose another folder, or pass --in-place to write there."
                )
        jobs, seen = [], {}
        for source, relative in sources:
            target = output / relative
            key = os.path.realpath(target)
            if key in seen:
                raise ZooError(
                    f"{seen[key]} and {source} would both be written to {target}; translate them in separate runs."
                )
            seen[key] = source
            jobs.append(Job(source, target))
    jobs = _protect_inputs(jobs, in_place)
    for job in jobs:
        check_output_path(job.target, "-o")  # under no file, not a folder or device, in a writable folder
    return jobs


def _open_error(path: Path, exc: BaseException) -> ZooError:
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        reason = "its format is unknown or it is damaged"
    else:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ZooError(f"{path} is not an image that can be read ({reason}); remove or replace it.")


def _too_large(path: Path, size: tuple[int, int] | None) -> ZooError:
    what = f"is {size[1]}x{size[0]} pixels" if size else "declares more pixels than PIL opens"
    return ZooError(
        f"{path} {what}, more than the {MAX_IMAGE_PIXELS:,} (8192x8192) zoo reads (a decompression bomb, "
        "or too large to translate in memory); shrink or split it first."
    )


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """``Image.open(path)``, refusing more than ``MAX_IMAGE_PIXELS`` before the pixels are decoded; every
    failure to open or decode is one sentence (PIL raises many kinds of exception on damaged files)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.size[0] * image.size[1] > MAX_IMAGE_PIXELS:
                    raise _too_large(path, image.size)
                yield image
    except ZooError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(path, None) from None
    except Exception as exc:  # UnidentifiedImageError, OSError (truncated), ValueError, SyntaxError, struct.error ...
        raise _open_error(path, exc) from None


def probe_image(path: Path) -> tuple[int, int]:
    """(width, height) of a readable image: the header checked against ``MAX_IMAGE_PIXELS``, then the whole
    file decoded (a JPEG at 1/8 scale, which still reads every byte), so a truncated file fails here."""
    with _opened(path) as image:
        size = image.size
        image.draft(image.mode, (1, 1))
        image.load()
    return size


def prepare_jobs(
    inputs: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], *, in_place: bool = False
) -> list[Job]:
    """``plan_jobs``, then every input image opened and decoded once (unreadable, truncated or too large
    fails here, before a model is loaded); each job carries its image's size.

    Example:
        >>> prepare_jobs(["photos/"], "out")[0].size
        (451, 300)
    """
    jobs = plan_jobs(inputs, output, in_place=in_place)
    return [Job(job.source, job.target, probe_image(job.source)) for job in jobs]


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
    and refused otherwise; more than ``MAX_IMAGE_PIXELS`` is refused before decoding.

    Example:
        >>> read_image("chelsea.png", 1).shape
        torch.Size([1, 300, 451])
    """
    import numpy as np
    import torch
    from PIL import ImageOps

    path = Path(path)
    _check_file_channels(channels)
    with _opened(path) as opened:
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
    tensor = torch.from_numpy(array.copy())
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
    return tensor.float().div_(255.0)


def encode_image(image: torch.Tensor, target: Path) -> bytes:
    """``image`` (``(C, H, W)`` in [0, 1]) in the format of ``target``'s suffix; converted to 8 bits in bands
    of rows, so a large image never holds a second float copy of itself."""
    import torch
    from PIL import Image

    channels, height, width = image.shape
    pixels = torch.empty((height, width, channels), dtype=torch.uint8)
    for top in range(0, height, 256):
        band = image[:, top : top + 256].detach().cpu().float().clamp(0, 1).mul_(255.0).add_(0.5)
        pixels[top : top + 256] = band.permute(1, 2, 0)  # copy_ truncates to uint8, as .to(torch.uint8)
    array = pixels.numpy()
    picture = Image.fromarray(array[:, :, 0] if channels == 1 else array)
    buffer = io.BytesIO()
    picture.save(buffer, format=Image.registered_extensions()[target.suffix.lower()])
    return buffer.getvalue()


def new_folders(jobs: Sequence[Job]) -> list[Path]:
    """The folders a run will create for its outputs, deepest first."""
    missing: set[Path] = set()
    for parent in {job.target.parent for job in jobs}:
        while not parent.exists() and parent not in missing and parent != parent.parent:
            missing.add(parent)
            parent = parent.parent
    return sorted(missing, key=lambda p: len(p.parts), reverse=True)


def translate_files(
    model: ImageToImage,
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    direction: str | None = None,
    verb: str = "translate",
    seed: int = 0,
    name: str = "the model",
    progress: bool | None = None,
    in_place: bool = False,
    jobs: Sequence[Job] | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[Job]:
    """Translate (or upscale) image files and folders into ``output``; returns what was written.

    ``jobs`` is ``prepare_jobs(inputs, output, in_place=in_place)`` when the caller already checked the
    inputs (the CLI does, before loading the model). Every image is checked against the model (size,
    output pixels) before the first is translated; each output is written atomically, so a failure or
    Ctrl-C mid-way leaves the outputs of the images before it, complete, and no partial or temporary
    file (folders it created and left empty are removed). ``progress`` (default: stderr is a terminal)
    shows a bar over the images of a run of several, and is passed to ``translate`` (the tiles of a
    large image for a tiled super-resolution model).

    Example:
        >>> translate_files(zoo.load("pix2pix.colorize"), ["old.jpg"], "new.png")
        [Job(source=PosixPath('old.jpg'), target=PosixPath('new.png'))]
    """
    from tqdm.auto import tqdm

    _check_model(model, verb, name)
    _check_direction(model, direction, name)
    _check_options(model, options, f"The model {name}")
    channels = input_channels(model, direction)
    _check_file_channels(channels)
    jobs = list(jobs) if jobs is not None else prepare_jobs(inputs, output, in_place=in_place)
    smallest = _positive(model.min_size, "min_size")
    scale = _positive(model.scale, "scale")
    for job in jobs:
        w, h = job.size or probe_image(job.source)
        if min(w, h) < smallest:
            raise ZooError(
                f"{job.source} is {h}x{w} pixels, smaller than the {smallest}x{smallest} that {name} takes; "
                "a smaller image holds too little to translate."
            )
        if w * h * scale * scale > MAX_IMAGE_PIXELS:
            raise ZooError(
                f"{job.source} is {h}x{w} pixels: its x{scale} output, {h * scale}x{w * scale}, would be more than "
                f"the {MAX_IMAGE_PIXELS:,} pixels (8192x8192) zoo writes; split or shrink it first."
            )
    show = sys.stderr.isatty() if progress is None else progress
    tiles = bool(show)
    created = new_folders(jobs)
    try:
        with tqdm(total=len(jobs), desc=verb, unit="image", disable=not show or len(jobs) < 2) as bar:
            for job in jobs:
                image = read_image(job.source, channels)
                out = translate_images(
                    model,
                    image,
                    direction=direction,
                    verb=verb,
                    seed=seed,
                    name=f"The model {name}",
                    progress=tiles,
                    options=options,
                )
                data = encode_image(out, job.target)
                del image, out
                write_output(job.target, data)
                bar.update()
    except BaseException:
        for folder in created:  # none holds a complete output of this run (else it is not empty)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return jobs
