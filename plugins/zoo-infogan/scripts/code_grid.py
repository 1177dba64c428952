"""Draw the paper's Figure 2 from a trained InfoGAN into its Hub folder: codes.png (and codes-c2.png).

    python plugins/zoo-infogan/scripts/code_grid.py hub/zoo/infogan-mnist

Rows are the ten values of the categorical code; columns vary one continuous code from -2 to 2 (codes.png: the
first, codes-c2.png: the second) with one noise vector (seed 0) and the other continuous code at 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

from zoo_core._images import save_grid
from zoo_core.modeling import ZooModel


def main(folder: str) -> None:
    model = ZooModel.from_pretrained(folder)
    for code, name in ((0, "codes.png"), (1, "codes-c2.png")):
        save_grid(model.code_grid(code=code, steps=10, seed=0), Path(folder) / name, nrow=10)
        print(f"wrote {Path(folder) / name}")


if __name__ == "__main__":
    main(sys.argv[1])
