"""Draw IcGAN's edits of held-out digits into its Hub folder: edits.png.

    ZOO_HUB_DIR=hub python plugins/zoo-icgan/scripts/edit_grid.py hub/zoo/icgan-mnist

Row i: the i-th of ten test digits of mnist5k (one of each class, the first of its class), then ``edit(x, y)`` for
y = 0 … 9: the class changed, the style (slant, thickness, width) kept from the digit on the left.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from zoo_core._images import save_grid
from zoo_core.data import load_dataset
from zoo_core.modeling import ZooModel


def main(folder: str) -> None:
    model = ZooModel.from_pretrained(folder)
    test = load_dataset("mnist5k", split="test", size=model.config.image_size)
    images, labels = test.tensors(), test.labels.long()
    x = torch.stack([images[int((labels == k).nonzero()[0])] for k in range(10)])
    rows = [
        torch.cat([x[i : i + 1], model.edit(x[i : i + 1].expand(10, -1, -1, -1), torch.arange(10))]) for i in range(10)
    ]
    save_grid(torch.cat(rows), Path(folder) / "edits.png", nrow=11)
    print(f"wrote {Path(folder) / 'edits.png'}")


if __name__ == "__main__":
    main(sys.argv[1])
