"""``ImagePool`` of junyanz's ``util/image_pool.py``: a history of generated images for the discriminator.

Shrivastava et al. 2017, as CycleGAN uses it (``pool_size`` 50): the discriminator is updated
with a mix of the newest fakes and older ones, which damps oscillation. ``query(images)`` takes
a batch of fakes and returns a batch of the same size, one image at a time:

- while the pool holds fewer than ``pool_size`` images, the image is stored and returned;
- afterwards, with probability 1/2 a stored image chosen uniformly is returned and the new
  image takes its place; otherwise the new image is returned and the pool is left alone.

``pool_size=0`` returns the batch unchanged (no pool). Stored images are detached copies.

Randomness comes from torch, never from Python's ``random``: from ``generator`` when given,
else from the global CPU generator (which ``zoo train`` checkpoints with its RNG states). The
reference's draws, per image once the pool is full: one uniform ``p`` and, when ``p > 0.5``, one
index in ``[0, pool_size)``. ``state_dict()`` holds only tensors and JSON values (the images,
their count, the pool size and the generator's state when it has its own), so a
``TrainingStep.extra_state()`` can return it and ``--resume`` continues bit-exactly.

Example:
    >>> pool = ImagePool(50)
    >>> fake_for_d = pool.query(fake_b)  # in the discriminator's update
    >>> state = pool.state_dict()        # in TrainingStep.extra_state()
    >>> pool.load_state_dict(state)      # in TrainingStep.load_extra_state()
"""

from __future__ import annotations

from typing import Any

import torch

from .._errors import ZooError

__all__ = ["ImagePool"]


class ImagePool:
    """A buffer of up to ``pool_size`` past images, queried with the reference's 50 % swap rule.

    Example:
        >>> pool = ImagePool(2, generator=torch.Generator().manual_seed(0))
        >>> pool.query(torch.zeros(2, 3, 4, 4)).shape  # fills the pool, returns the images
        torch.Size([2, 3, 4, 4])
        >>> len(pool)
        2
    """

    def __init__(self, pool_size: int = 50, generator: torch.Generator | None = None) -> None:
        if pool_size < 0:
            raise ZooError(f"ImagePool needs pool_size >= 0, not {pool_size}.")
        self.pool_size = pool_size
        self.generator = generator
        self.images: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_imgs(self) -> int:
        """How many images the pool holds (the reference's attribute)."""
        return len(self.images)

    def _device(self) -> torch.device | None:
        return None if self.generator is None else self.generator.device

    def _uniform(self) -> float:
        return float(torch.rand((), generator=self.generator, device=self._device()))

    def _index(self) -> int:
        return int(torch.randint(0, self.pool_size, (), generator=self.generator, device=self._device()))

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """A batch of the same shape as ``images``: each one the new image or, half the time once full, an old one.

        Example:
            >>> pool = ImagePool(0)
            >>> x = torch.randn(4, 3, 8, 8)
            >>> pool.query(x) is x
            True
        """
        if self.pool_size == 0:
            return images
        if self.images and (self.images[0].device, self.images[0].dtype) != (images.device, images.dtype):
            # after a resume (images loaded on the CPU) or a change of precision
            self.images = [image.to(device=images.device, dtype=images.dtype) for image in self.images]
        out: list[torch.Tensor] = []
        for image in images.detach():
            image = image.unsqueeze(0).clone()
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif self._uniform() > 0.5:
                i = self._index()
                out.append(self.images[i])
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, Any]:
        """The pool as tensors and JSON values: ``pool_size``, ``images`` (a list) and ``generator`` (or None).

        Example:
            >>> sorted(ImagePool(50).state_dict())
            ['generator', 'images', 'pool_size']
        """
        return {
            "pool_size": self.pool_size,
            "images": [image.detach().clone() for image in self.images],
            "generator": None if self.generator is None else self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (the next ``query`` moves the images to its device).

        Example:
            >>> pool = ImagePool(50)
            >>> pool.load_state_dict(ImagePool(50).state_dict())
        """
        if int(state["pool_size"]) != self.pool_size:
            raise ZooError(
                f"This image pool holds {self.pool_size} images but the saved one held {state['pool_size']}; "
                "resume with the same pool size."
            )
        images = list(state["images"])
        if len(images) > self.pool_size:
            raise ZooError(f"The saved image pool has {len(images)} images, more than its size {self.pool_size}.")
        self.images = [image.detach().clone() for image in images]  # moved to the queries' device by query
        saved = state.get("generator")
        if saved is not None:
            if self.generator is None:
                raise ZooError("The saved image pool had its own generator; build this one with a generator too.")
            self.generator.set_state(saved)
