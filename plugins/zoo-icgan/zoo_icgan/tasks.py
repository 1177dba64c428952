"""The two tasks zoo-icgan declares (``register_tasks``): ``class-conditional`` and ``image-editing`` (no torch here).

- ``class-conditional``: ``sample(n, *, labels=None, seed=None, progress=False)`` draws ``n`` images
  of the classes ``labels`` (one class for all, or one per image; ``None``: uniformly random
  classes); attribute ``num_classes``. The signature is a superset of the core's ``unconditional``
  contract ``sample(n, *, seed, progress)``, so one model serves both.
- ``image-editing``: ``edit(x, y, *, seed=None)`` changes the class of images ``x`` ``(N, C, H, W)``
  in [0, 1] to ``y`` and keeps their style; ``encode(x) -> (z, y_scores)`` gives the codes the edit
  decodes (the latent code ``(N, nz)`` and one score per class ``(N, num_classes)``, whose argmax
  is the class the model reads). Attributes ``num_classes``, ``input_channels``, ``image_size``.

The mix-ins (``ClassConditionalGenerator``, ``ImageEditor``) hold ``abstract_verb`` placeholders, so a
model class that forgets a verb is refused when it is defined, and the input checks a model's verbs
call (``draw_labels``, ``check_edit``): each failure is one ``ZooError`` sentence.

Example:
    >>> from zoo_core.tasks import TASKS
    >>> TASKS["image-editing"].verbs, TASKS["image-editing"].attributes
    (('edit', 'encode'), ('num_classes', 'input_channels', 'image_size'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Union, runtime_checkable

from zoo_core.tasks import abstract_verb

if TYPE_CHECKING:
    import torch

    Labels = Union[int, Sequence[int], torch.Tensor]  # noqa: UP007 (evaluated lazily; 3.10-compatible)

__all__ = [
    "ClassConditional",
    "ClassConditionalGenerator",
    "ImageEditing",
    "ImageEditor",
    "class_conditional_calls",
    "image_editing_calls",
]


@runtime_checkable
class ClassConditional(Protocol):
    """The contract of task ``class-conditional``: ``sample(n, *, labels, seed, progress)`` and ``num_classes``."""

    num_classes: int

    def sample(
        self, n: int, *, labels: Labels | None = None, seed: int | None = None, progress: bool = False
    ) -> torch.Tensor: ...


@runtime_checkable
class ImageEditing(Protocol):
    """The contract of task ``image-editing``: ``edit(x, y, *, seed)`` and ``encode(x)``."""

    num_classes: int
    input_channels: int
    image_size: int

    def edit(self, x: torch.Tensor, y: Labels, *, seed: int | None = None) -> torch.Tensor: ...

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...


class ClassConditionalGenerator:
    """The mix-in of task ``class-conditional``: a model implements ``sample`` (and declares ``num_classes``).

    Put it before ``UnconditionalGenerator`` among the bases: its placeholder then hides the
    unconditional ``sample``, so the model must define the one that takes ``labels``.

    Example:
        >>> class Model(ClassConditionalGenerator, UnconditionalGenerator, ZooModel):
        ...     def sample(self, n, *, labels=None, seed=None, progress=False):
        ...         y = self.draw_labels(labels, n, seeded_generator(seed))
    """

    task = "class-conditional"

    @abstract_verb
    def sample(
        self, n: int, *, labels: Labels | None = None, seed: int | None = None, progress: bool = False
    ) -> torch.Tensor:
        """Draw ``n`` images in [0, 1] of the classes ``labels``; the same seed gives the same images."""
        raise NotImplementedError

    def draw_labels(self, labels: Labels | None, n: int, generator: torch.Generator) -> torch.Tensor:
        """``labels`` checked as ``(n,)`` class numbers, or ``n`` uniformly random classes from ``generator``.

        Example:
            >>> model.draw_labels(3, 2, seeded_generator(0))
            tensor([3, 3])
        """
        import torch

        from zoo_core.modeling import check_count, check_labels

        check_count(n)
        if labels is None:
            return torch.randint(0, self.num_classes, (n,), generator=generator)  # type: ignore[attr-defined]
        return check_labels(labels, n, self.num_classes)  # type: ignore[attr-defined]


class ImageEditor:
    """The mix-in of task ``image-editing``: a model implements ``edit`` and ``encode``.

    Example:
        >>> x, y = model.check_edit(images, 3)   # (N, C, H, W) in [0, 1] and (N,) classes, or one sentence
    """

    task = "image-editing"

    @abstract_verb
    def edit(self, x: torch.Tensor, y: Labels, *, seed: int | None = None) -> torch.Tensor:
        """``x`` ``(N, C, H, W)`` in [0, 1] with its class changed to ``y`` (one class or one per image)."""
        raise NotImplementedError

    @abstract_verb
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The codes ``edit`` decodes: ``(z (N, nz), class scores (N, num_classes))``."""
        raise NotImplementedError

    def check_edit_images(self, x: object) -> torch.Tensor:
        """``x`` if it is a batch of this model's images in [0, 1], or one sentence."""
        import torch

        from zoo_core import ZooError
        from zoo_core.modeling import check_images

        if not isinstance(x, torch.Tensor):
            raise ZooError(f"edit takes a tensor of images (N, C, H, W) in [0, 1], not {type(x).__name__}.")
        size = int(self.image_size)  # type: ignore[attr-defined]
        check_images(x, channels=int(self.input_channels), size=(size, size), what=type(self).__name__)  # type: ignore[attr-defined]
        if x.numel() and (not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1):
            raise ZooError(
                f"edit takes images in [0, 1], got values from {float(x.min()):.4g} to {float(x.max()):.4g}; "
                "map the images to [0, 1] first."
            )
        return x

    def check_edit(self, x: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, labels)``: the images checked and ``y`` as ``(N,)`` class numbers, or one sentence."""
        from zoo_core.modeling import check_labels

        images = self.check_edit_images(x)
        return images, check_labels(y, len(images), self.num_classes)  # type: ignore[attr-defined]


def class_conditional_calls(model: Any, images: Any) -> dict[str, Callable[[], Any]]:
    """What ``zoo plugin check`` calls for task ``class-conditional``: one class for all, one per image, random."""
    n = len(images)
    return {
        "sample(labels=0)": lambda: model.sample(n, labels=0, seed=0),
        "sample(labels=[...])": lambda: model.sample(n, labels=[i % model.num_classes for i in range(n)], seed=0),
        "sample(labels=None)": lambda: model.sample(n, seed=0),
    }


def image_editing_calls(model: Any, images: Any) -> dict[str, Callable[[], Any]]:
    """What ``zoo plugin check`` calls for task ``image-editing``: an edit to one class, and the codes."""
    return {
        "edit(x, 1)": lambda: model.edit(images, 1, seed=0),
        "encode(x)": lambda: model.encode(images),
    }
