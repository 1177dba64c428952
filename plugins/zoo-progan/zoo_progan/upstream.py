"""The published ProGAN checkpoints as catalog entries, registered by the plugin's ``register_models`` hook.

- ``progan.celebahq-1024``: the Hub's ``huggan/pggan-celebahq-1024`` ``pytorch_model.bin`` (genforce's
  port of the official CelebA-HQ generator), downloaded on first use, read with
  ``torch.load(weights_only=True)``, converted once by ``progan-genforce`` and hash-pinned on the first
  verified download (nobody here could fetch it, so the entry has no sha256).
- ``progan.celebahq-1024-official``: the authors' ``karras2018iclr-celebahq-1024x1024.pkl`` on Google Drive,
  which needs a browser (``manual``): ``zoo load`` names the page and where to save the file; it is read
  by the restricted unpickler of ``zoo_progan.tfpickle`` (no code from it runs), converted by
  ``progan-karras`` and hash-pinned likewise. ``zoo convert progan-karras FILE -o DIR`` converts a copy
  anywhere into a Hub folder that ``zoo load DIR`` loads.

No torch here (``zoo list`` reads these entries).

Example:
    >>> upstream_entries()["progan.celebahq-1024"]["weights"]["repo_id"]
    'huggan/pggan-celebahq-1024'
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["OFFICIAL_PICKLE", "OFFICIAL_URL", "PAPER", "upstream_entries"]

#: the file's page in the authors' Google Drive folder of the TensorFlow release's networks
#: (``networks/tensorflow-version``, https://drive.google.com/open?id=15hvzxt_XxuokSmj0uO4xxMTMWVc0cIMU)
OFFICIAL_URL = "https://drive.google.com/open?id=188K19ucknC6wg1R6jbuPEhTq9zoufOx4"
OFFICIAL_FOLDER = "https://drive.google.com/open?id=15hvzxt_XxuokSmj0uO4xxMTMWVc0cIMU"
OFFICIAL_PICKLE = "karras2018iclr-celebahq-1024x1024.pkl"
#: the generator's parameters at the CelebA-HQ config (checked by the plugin's tests)
CELEBAHQ_GENERATOR_PARAMS = 23079115

PAPER = {
    "title": "Progressive Growing of GANs for Improved Quality, Stability, and Variation",
    "authors": "Tero Karras, Timo Aila, Samuli Laine, Jaakko Lehtinen",
    "year": 2018,
    "url": "https://arxiv.org/abs/1710.10196",
    "reference_code": "https://github.com/tkarras/progressive_growing_of_gans",
}

_DATASET = {
    "name": "celeba-hq",
    "split": "train (30,000 CelebA-HQ faces at 1024x1024, made by the reference's dataset_tool.py create_celebahq)",
    "url": "https://github.com/tkarras/progressive_growing_of_gans#preparing-datasets-for-training",
}

_RECIPE = (
    "Trained by the authors (Theano code; the paper's CelebA-HQ run): WGAN-GP (lambda 10) with the drift term "
    "epsilon 0.001, Adam lr 1e-3 betas (0, 0.99), 4x4 to 1024x1024 in phases of 600k images shown (fade-in) "
    "and 600k (stabilise), minibatch 16 down to 4 at the top resolutions, generator weights averaged with "
    "beta 0.999 (Gs, the network released for sampling). The paper reports a sliced Wasserstein distance and "
    "an MS-SSIM of 0.2838 for CelebA-HQ (not verified here)."
)


def _config() -> dict[str, Any]:
    from .plugin import CELEBAHQ_CONFIG

    return dict(CELEBAHQ_CONFIG)


def upstream_entries() -> dict[str, dict[str, Any]]:
    """The catalog entries of the published ProGAN checkpoints, by name.

    Example:
        >>> upstream_entries()["progan.celebahq-1024-official"]["weights"]["manual"]
        True
    """
    convert = f"zoo convert progan-karras {OFFICIAL_PICKLE} -o progan-celebahq-1024"
    common = {
        "architecture": "progan",
        "plugin": "zoo-progan",
        "tasks": ["unconditional"],
        "source": "upstream",
        "config": _config(),
        "num_params": CELEBAHQ_GENERATOR_PARAMS,
        "dataset": dict(_DATASET),
        "metrics": [],
        "paper": dict(PAPER),
        "license": "cc-by-nc-4.0",
        "tags": ["gan", "progan", "upstream", "celeba-hq", "faces"],
    }
    return {
        "progan.celebahq-1024": {
            **copy.deepcopy(common),
            "description": "The official Progressive GAN generator of 1024x1024 CelebA-HQ faces (Karras et al. "
            "2018) as genforce ported it to PyTorch and the Hub's huggan/pggan-celebahq-1024 serves it: downloaded "
            "on first use and converted at download time (converter progan-genforce; generator only, it cannot "
            "be trained further). Its sha256 is not in the registry because nobody here could fetch the file: "
            "it is pinned on the first verified download.",
            "made_by": {
                "command": "python converters/pggan_converter.py (genforce/genforce, from the official pickle)",
                "notes": _RECIPE + " genforce converted the official TensorFlow pickle to its PGGANGenerator "
                "layout (converters/pggan_converter.py); the Hub copy is that generator. The official networks are "
                "under CC BY-NC 4.0 (the repository's licence). File: pytorch_model.bin, a pickled state dict in "
                "genforce's layout (lod, layer0..17, output0..8; about 92 MB), read only with "
                "torch.load(weights_only=True); its exact contents and size are unverified.",
            },
            "weights": {
                "repo_id": "huggan/pggan-celebahq-1024",
                "filename": "pytorch_model.bin",
                "revision": "main",
                "sha256": None,
                "format": "pickle",
                "converter": "progan-genforce",
            },
        },
        "progan.celebahq-1024-official": {
            **copy.deepcopy(common),
            "description": "The authors' own Progressive GAN generator of 1024x1024 CelebA-HQ faces (Karras et al. "
            f"2018), the Gs network of {OFFICIAL_PICKLE}. The file lives on Google Drive, which needs a browser: "
            "download it yourself and save it where `zoo load progan.celebahq-1024-official` says; it is then read "
            "by a restricted unpickler that rebuilds numpy arrays only and runs no code from the file, converted "
            "(converter progan-karras) and its sha256 pinned on first use. Or convert a copy anywhere with "
            f"`{convert}` and load that folder with `zoo load progan-celebahq-1024`.",
            "made_by": {
                "command": "python train.py (tkarras/progressive_growing_of_gans, config.py's CelebA-HQ settings)",
                "notes": _RECIPE + f" File: {OFFICIAL_PICKLE} (about 264 MB), a pickle of three tfutil.Network "
                "objects (G, D, Gs) whose state holds each network's variables as (name, numpy array) pairs and the "
                "source of networks.py, which zoo never executes; only Gs is converted. The authors' folder of the "
                f"TensorFlow release's networks: {OFFICIAL_FOLDER} (networks/tensorflow-version).",
            },
            "weights": {
                "url": OFFICIAL_URL,
                "manual": True,
                "filename": OFFICIAL_PICKLE,
                "sha256": None,
                "format": "pickle",
                "converter": "progan-karras",
            },
        },
    }
