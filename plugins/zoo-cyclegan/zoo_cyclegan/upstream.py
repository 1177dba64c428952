"""The official pretrained CycleGAN models as registry entries, and the one command that writes them.

Every ``{name}.pth`` that junyanz/pytorch-CycleGAN-and-pix2pix's
``scripts/download_cyclegan_model.sh`` fetches from
``http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/`` is one ``resnet_9blocks``
generator (instance norm, 3 to 3 channels, trained on 256x256 crops). Each becomes the upstream
entry ``cyclegan.{name}``: downloaded from the authors on first use, read with
``torch.load(weights_only=True)``, converted once by ``cyclegan-junyanz`` into a model that holds
that generator alone (``directions="AtoB"``: A is the domain the name translates from), and
hash-pinned on the first verified download (nobody here could fetch the files, so the registry
has no sha256 for them).

``python -m zoo_cyclegan.upstream [REGISTRY]`` adds or refreshes exactly these entries in the shipped
``registry.json`` (or the catalog file REGISTRY), through zoo_core's one catalog writer (read just before it is
written, atomically; every other entry stays as it is).

Example:
    >>> official_entry("horse2zebra")["weights"]["url"]
    'http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/horse2zebra.pth'
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["BASE_URL", "OFFICIAL", "main", "official_entries", "official_entry"]

BASE_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models"
DATASETS_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets"

#: name -> (what it translates, the authors' training dataset)
OFFICIAL: dict[str, tuple[str, str]] = {
    "apple2orange": ("photos of apples into oranges (ImageNet)", "apple2orange"),
    "orange2apple": ("photos of oranges into apples (ImageNet)", "apple2orange"),
    "summer2winter_yosemite": ("summer photos of Yosemite into winter ones (Flickr)", "summer2winter_yosemite"),
    "winter2summer_yosemite": ("winter photos of Yosemite into summer ones (Flickr)", "summer2winter_yosemite"),
    "horse2zebra": ("photos of horses into zebras (ImageNet)", "horse2zebra"),
    "zebra2horse": ("photos of zebras into horses (ImageNet)", "horse2zebra"),
    "monet2photo": ("Monet's paintings into photographs", "monet2photo"),
    "style_monet": ("photographs into paintings in Monet's style", "monet2photo"),
    "style_cezanne": ("photographs into paintings in Cezanne's style", "cezanne2photo"),
    "style_ukiyoe": ("photographs into Ukiyo-e prints", "ukiyoe2photo"),
    "style_vangogh": ("photographs into paintings in Van Gogh's style", "vangogh2photo"),
    "sat2map": ("aerial photographs into Google maps", "maps"),
    "map2sat": ("Google maps into aerial photographs", "maps"),
    "cityscapes_photo2label": ("Cityscapes street photos into semantic label maps", "cityscapes"),
    "cityscapes_label2photo": ("Cityscapes semantic label maps into street photos", "cityscapes"),
    "facades_photo2label": ("photos of building facades into CMP Facades label maps", "facades"),
    "facades_label2photo": ("CMP Facades label maps into photos of facades", "facades"),
    "iphone2dslr_flower": (
        "iPhone photos of flowers into photos with a DSLR's shallow depth of field (Flickr)",
        "iphone2dslr_flower",
    ),
}

_PAPER = {
    "title": "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
    "authors": "Jun-Yan Zhu, Taesung Park, Phillip Isola, Alexei A. Efros",
    "year": 2017,
    "url": "https://arxiv.org/abs/1703.10593",
    "reference_code": "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
}


def _config() -> dict[str, Any]:
    from .plugin import OFFICIAL_CONFIG

    return dict(OFFICIAL_CONFIG)


def official_entry(name: str) -> dict[str, Any]:
    """The registry entry of the official pretrained model ``name`` (a key of ``OFFICIAL``).

    Example:
        >>> official_entry("style_monet")["config"]["directions"]
        'AtoB'
    """
    what, dataset = OFFICIAL[name]
    return {
        "architecture": "cyclegan",
        "plugin": "zoo-cyclegan",
        "tasks": ["image-to-image"],
        "source": "upstream",
        "description": f"The authors' pretrained CycleGAN generator {name}: translates {what}. Downloaded from the "
        f"authors ({BASE_URL}/{name}.pth) on first use and converted at download time (converter "
        "cyclegan-junyanz) into a model holding this one generator (direction AtoB; it cannot translate back "
        "or be trained further). Its sha256 is not in the registry because nobody here could fetch the file: "
        "it is pinned on the first verified download.",
        "config": _config(),
        "num_params": 11378179,
        "dataset": {
            "name": dataset,
            "split": f"train (the authors' CycleGAN dataset {dataset})",
            "url": f"{DATASETS_URL}/{dataset}.zip",
        },
        "metrics": [],
        "paper": dict(_PAPER),
        "license": "unknown",
        "made_by": {
            "command": f"bash ./scripts/download_cyclegan_model.sh {name}",
            "notes": "The CycleGAN paper's model, released by its authors with junyanz/pytorch-CycleGAN-and-pix2pix "
            "(the command above is how that repository fetches it; the paper's recipe: resnet_9blocks, instance "
            "norm, LSGAN, cycle losses 10 / 10, pool 50, Adam 2e-4, 100 + 100 epochs on 256x256 crops; the "
            "identity loss as the paper chose per task). The repository's code is under a BSD licence; the "
            f"weights' licence is not stated. File: {name}.pth, one generator's pickled state dict (about 45.5 MB, "
            "keys model.N, 48 tensors; files saved before PyTorch 0.4 carry InstanceNorm running statistics, "
            "dropped as the reference does), read only with torch.load(weights_only=True); its size and the "
            "server's liveness are unverified.",
        },
        "tags": ["gan", "cyclegan", "upstream", dataset],
        "weights": {
            "url": f"{BASE_URL}/{name}.pth",
            "filename": f"{name}.pth",
            "sha256": None,
            "format": "pickle",
            "converter": "cyclegan-junyanz",
        },
    }


def official_entries() -> dict[str, dict[str, Any]]:
    """``{"cyclegan.NAME": entry}`` for every official pretrained model, in the registry's (sorted) order.

    Example:
        >>> len(official_entries())
        18
    """
    return {f"cyclegan.{name}": official_entry(name) for name in sorted(OFFICIAL)}


def main(argv: list[str] | None = None) -> int:
    """Add or refresh the official entries in a catalog file (default: the registry.json zoo ships).

    Written by zoo_core's one catalog writer: atomically, every other entry, the order and the formatting kept.
    """
    from zoo_core._registry import shipped_registry_path, update_registry

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else shipped_registry_path()
    update_registry(path, official_entries())
    print(f"{len(OFFICIAL)} official CycleGAN entries written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
