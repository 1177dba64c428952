"""The authors' StarGAN checkpoints as registry entries (no torch here: ``zoo list`` reads them).

yunjey/stargan's ``download.sh`` fetches two pretrained CelebA models from Dropbox, each a zip
(``celeba-128x128-5attrs.zip``, ``celeba-256x256-5attrs.zip``) holding ``200000-G.ckpt`` and
``200000-D.ckpt``: the generator and discriminator after 200,000 iterations, saved with
``torch.save(self.G.state_dict(), ...)`` (keys ``main.N.*``), attributes Black_Hair, Blond_Hair,
Brown_Hair, Male, Young. Dropbox serves a page, not the file, so these are manual entries:
``zoo load stargan.celeba`` says where to save ``200000-G.ckpt`` (unzipped), then converts it
(``stargan-yunjey``) and pins its sha256; ``zoo convert stargan-yunjey 200000-G.ckpt -o DIR`` does the
same into a folder.

The Hub repository ``goodfellowliu/StarGAN-PyTorch`` (Lornatang/StarGAN-PyTorch's weights) holds the
same generators repacked as ``{"state_dict": ...}`` (``g_celeba-128x128.pth.tar``,
``g_celeba-256x256.pth.tar``; Lornatang's ``state_dict_convert.py`` copied the authors' 200000-G.ckpt
tensor by tensor, in key order, into its own layout ``first_layer.*``, ``down_sampling.*``, ``trunk.*``,
``up_sampling.*``, ``last_layer.*``): upstream entries converted by ``stargan-goodfellowliu``. Nobody here
could fetch any of these files, so no entry pins a sha256: the first verified download pins it.

Example:
    >>> entries()["stargan.celeba"]["weights"]["manual"]
    True
"""

from __future__ import annotations

from typing import Any

__all__ = ["AUTHORS_URLS", "HUB_FILES", "HUB_REPO", "celeba_config", "entries"]

#: image side -> the authors' Dropbox page of the zip holding 200000-G.ckpt (yunjey/stargan download.sh)
AUTHORS_URLS = {
    128: "https://www.dropbox.com/s/7e966qq0nlxwte4/celeba-128x128-5attrs.zip?dl=0",
    256: "https://www.dropbox.com/s/zdq6roqf63m0v5f/celeba-256x256-5attrs.zip?dl=0",
}
HUB_REPO = "goodfellowliu/StarGAN-PyTorch"
#: image side -> the generator's file in HUB_REPO (Lornatang/StarGAN-PyTorch scripts/download_weights.sh)
HUB_FILES = {128: "g_celeba-128x128.pth.tar", 256: "g_celeba-256x256.pth.tar"}
#: parameters of the reference generator (conv_dim 64, c_dim 5, repeat_num 6, RGB)
GENERATOR_PARAMS = 8_430_528

_ATTRIBUTES = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
_PAPER = {
    "title": "StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image Translation",
    "authors": "Yunjey Choi, Minje Choi, Munyoung Kim, Jung-Woo Ha, Sunghun Kim, Jaegul Choo",
    "year": 2018,
    "url": "https://arxiv.org/abs/1711.09020",
    "reference_code": "https://github.com/yunjey/stargan",
}
_RECIPE = (
    "Trained by the authors with yunjey/stargan main.py: WGAN-GP adversarial loss (lambda_gp 10), domain "
    "classification loss (binary cross-entropy, lambda_cls 1), reconstruction L1 (lambda_rec 10), n_critic 5, Adam "
    "1e-4 betas (0.5, 0.999), batch 16, 200,000 iterations (the last 100,000 with the reference's linear decay), "
    "CelebA center-cropped to 178 and resized, random horizontal flips; 2,000 images held out for testing."
)


def celeba_config(image_size: int = 128) -> dict[str, Any]:
    """The zoo config of the authors' CelebA generators (generator only: the zoo model holds no D).

    Example:
        >>> celeba_config(256)["image_size"]
        256
    """
    return {
        "image_size": image_size,
        "channels": 3,
        "c_dim": 5,
        "attributes": list(_ATTRIBUTES),
        "exclusive": [["Black_Hair", "Blond_Hair", "Brown_Hair"]],
        "g_conv_dim": 64,
        "d_conv_dim": 64,
        "g_repeat_num": 6,
        "d_repeat_num": 6,
        "eval_norm": "instance",
        "with_discriminator": False,
    }


def _entry(side: int, hub: bool) -> dict[str, Any]:
    where = (
        f"the Hub repository {HUB_REPO} ({HUB_FILES[side]}, Lornatang/StarGAN-PyTorch's copy of the authors' "
        '200000-G.ckpt as {"state_dict": ...}); downloaded from there and converted at download time '
        "(converter stargan-goodfellowliu). Its sha256 is not in the registry because nobody here could fetch the "
        "file: it is pinned on the first verified download."
        if hub
        else f"Dropbox, which serves a page: download celeba-{side}x{side}-5attrs.zip from {AUTHORS_URLS[side]} in a "
        "browser, unzip it and save its 200000-G.ckpt where `zoo load` says; it is then converted (converter "
        "stargan-yunjey) and its sha256 pinned on first use. Or convert it into a folder yourself: "
        f"`zoo convert stargan-yunjey 200000-G.ckpt -o DIR{'' if side == 128 else ' --config image_size=256'}`."
    )
    weights: dict[str, Any] = (
        {
            "repo_id": HUB_REPO,
            "filename": HUB_FILES[side],
            "revision": "main",
            "sha256": None,
            "format": "pickle",
            "converter": "stargan-goodfellowliu",
        }
        if hub
        else {
            "url": AUTHORS_URLS[side],
            "manual": True,
            "filename": "200000-G.ckpt",
            "sha256": None,
            "format": "pickle",
            "converter": "stargan-yunjey",
        }
    )
    file_note = (
        f'File: {HUB_FILES[side]}, a pickled {{"state_dict": ...}} in Lornatang\'s layout (keys first_layer.*, '
        "down_sampling.*, trunk.N.main.*, up_sampling.*, last_layer.*, possibly with torch.compile's _orig_mod. "
        "prefix; the layout of the authors' main.N.* is accepted too), read only with torch.load(weights_only=True). "
        "The repository is Apache-2.0; the weights' own licence is not stated."
        if hub
        else "File: 200000-G.ckpt, the generator's pickled state dict (keys main.N.*, InstanceNorm weight, bias and "
        "running statistics), read only with torch.load(weights_only=True). The code is MIT-licensed; the weights' "
        "licence is not stated, and CelebA is for non-commercial research only."
    )
    return {
        "architecture": "stargan",
        "plugin": "zoo-stargan",
        "tasks": ["image-to-image"],
        "source": "upstream",
        "description": (
            f"The authors' StarGAN generator for {side}x{side} CelebA faces (Choi et al. 2018, yunjey/stargan): "
            "changes hair colour (black, blond, brown), gender and age of a face, "
            '`model.translate(faces, attributes={"Blond_Hair": 1, "Male": 0})`. Attributes not named are 0 '
            "(this model holds no discriminator to read them off the input); naming one hair colour turns the "
            f"others off. The file lives on {where}"
        ),
        "config": celeba_config(side),
        "num_params": GENERATOR_PARAMS,
        "dataset": {
            "name": "celeba",
            "split": "train (CelebA minus the first 1,999 shuffled images, random.seed(1234))",
            "url": "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
        },
        "metrics": [],
        "paper": dict(_PAPER),
        "license": "unknown",
        "made_by": {
            "command": f"python main.py --mode train --dataset CelebA --image_size {side} --c_dim 5 "
            "--selected_attrs Black_Hair Blond_Hair Brown_Hair Male Young",
            "notes": f"{_RECIPE} {file_note}",
        },
        "tags": ["gan", "stargan", "image-to-image", "celeba", "upstream"],
        "weights": weights,
    }


def entries() -> dict[str, dict[str, Any]]:
    """Every upstream StarGAN entry by name: the authors' files (manual) and the Hub copies.

    Example:
        >>> sorted(entries())
        ['stargan.celeba', 'stargan.celeba-256', 'stargan.celeba-256-hub', 'stargan.celeba-hub']
    """
    out: dict[str, dict[str, Any]] = {}
    for side in (128, 256):
        suffix = "" if side == 128 else f"-{side}"
        out[f"stargan.celeba{suffix}"] = _entry(side, hub=False)
        out[f"stargan.celeba{suffix}-hub"] = _entry(side, hub=True)
    return out
