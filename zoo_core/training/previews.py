"""The sample grid of a two-way image-to-image training run (CycleGAN, DiscoGAN): held-out images and translations.

``TranslationPreview`` is a mix-in for a ``TrainingStep`` whose model translates both ways (``translate(x,
direction="AtoB" | "BtoA")``); it implements ``samples`` (the grid ``zoo train`` writes every ``--sample-every``
steps and into the Hub folder). The step sets ``self.preview_dataset`` to its training dataset in
``check_dataset``: the grid shows the test split when there is one, else training images.

Example:
    >>> class CycleGANTrainingStep(TranslationPreview, TrainingStep): ...
    >>> step.samples(64, seed=0).shape  # rows of 8: A, A->B, B, B->A, twice
    torch.Size([64, 3, 256, 256])
"""

from __future__ import annotations

from typing import Any

import torch

from .._errors import ZooError

__all__ = ["TranslationPreview"]


class TranslationPreview:
    """``samples(n, seed)`` of a two-way translation step: rows of 8 held-out A, A->B, held-out B, B->A."""

    #: the training dataset, set by the step's ``check_dataset`` (shown when the dataset has no test split)
    preview_dataset: Any = None
    _preview: tuple[torch.Tensor, torch.Tensor] | None = None

    def _preview_images(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` held-out images of each domain, evenly spaced (the test split if any, else training images)."""
        if self._preview is None:
            from ..data import load_dataset

            cfg = self.train_config  # type: ignore[attr-defined]
            try:
                data = load_dataset(cfg.dataset, split="test", **(cfg.dataset_options or {}))
            except Exception:  # no test split (a folder without testA/testB): show training images
                data = self.preview_dataset
            if data is None:
                raise ZooError("No data to draw the sample grid from; the step has not seen a dataset.")
            spread = lambda n: torch.linspace(0, n - 1, min(k, n)).round().long().tolist()  # noqa: E731
            if hasattr(data, "domain_a"):  # spread over each domain (held-out splits are often sorted by class)
                a = torch.stack([data.domain_a[i]["image"] for i in spread(len(data.domain_a))])
                b = torch.stack([data.domain_b[i]["image"] for i in spread(len(data.domain_b))])
            else:
                items = [data[i] for i in spread(len(data))]
                a = torch.stack([item["image"] for item in items])
                b = torch.stack([item["target"] for item in items])
            self._preview = a, b
        return self._preview

    def samples(self, n: int, seed: int) -> torch.Tensor | None:
        """Rows of 8: held-out A, its translation to B, held-out B, its translation to A, repeated (``n`` // 32
        groups; 64 images: 16 of each domain)."""
        groups = max(1, n // 32)
        a, b = self._preview_images(8 * groups)
        model = self.model  # type: ignore[attr-defined]
        rows = []
        for g in range(groups):
            xa, xb = a[8 * g : 8 * g + 8], b[8 * g : 8 * g + 8]
            rows += [xa, model.translate(xa, direction="AtoB"), xb, model.translate(xb, direction="BtoA")]
        rows = [r.to("cpu", torch.float32) for r in rows]
        if len({r.shape[1] for r in rows}) > 1:  # grey and RGB domains: show both in RGB
            rows = [r.expand(-1, 3, -1, -1) if r.shape[1] == 1 else r for r in rows]
        return torch.cat(rows)
