"""Draw a trained digit StarGAN's attribute flips into its Hub folder: flips.png.

    python plugins/zoo-stargan/scripts/flip_grid.py hub/zoo/stargan-mnist-style

One row per test digit (the first of each class, at the model's size): the digit, then the digit translated
with each attribute flipped in turn and the others kept (its own attributes as mnist5k-attributes measures them).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from zoo_stargan.data import load_mnist5k_attributes

from zoo_core._images import save_grid
from zoo_core.modeling import ZooModel


def main(folder: str) -> None:
    model = ZooModel.from_pretrained(folder)
    test = load_mnist5k_attributes("test", size=model.config.image_size)
    labels = test.labels.tolist()
    rows = [labels.index(digit) for digit in range(10)]
    x = test.images[rows].float()
    x = x / 255 if test.images.dtype == torch.uint8 else x
    own = test.attribute_values[rows].float()
    columns = [x]
    for i, name in enumerate(model.config.attributes):
        target = own.clone()
        target[:, i] = 1 - target[:, i]
        columns.append(model.translate(x, attributes=target))
        print(f"column {i + 2}: {name} flipped")
    grid = torch.stack(columns, 1).flatten(0, 1)  # row-major: each digit, then its flips
    save_grid(grid, Path(folder) / "flips.png", nrow=len(columns))
    print(f"wrote {Path(folder) / 'flips.png'}")


if __name__ == "__main__":
    main(sys.argv[1])
