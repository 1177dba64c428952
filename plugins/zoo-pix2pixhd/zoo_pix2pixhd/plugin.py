"""The zoo hooks of zoo-pix2pixhd (no torch here: the model is imported only when built).

Example:
    $ zoo train pix2pixhd --dataset photos-colorize --dataset-option crop_size=256 --config netG=local \\
          --config label_nc=0 --config input_nc=1 --config output_nc=2 --config color_space=lab \\
          --config no_instance=true --config ngf=16 --config image_size=256 --out runs/pix2pixhd-colorize
    $ zoo convert pix2pixhd-nvidia latest_net_G.pth -o hub/me/pix2pixhd-label2city
    $ zoo translate pix2pixhd.label2city-1024p frankfurt_000000_000576_gtFine_labelIds.png -o city.png
"""

from __future__ import annotations

import copy

from zoo_core import Architecture, Converter, hookimpl

#: ``scripts/test_1024p.sh`` (``--netG local --ngf 32 --resize_or_crop none``) on the options' defaults: 35 labels
#: and the instance-edge map in (36 channels), a global generator 64 wide with 4 downsamplings and 9 blocks, one
#: enhancer 32 wide with 3 blocks, instance norm; generator only. Here, not in convert.py, so that `zoo list` and
#: `zoo plugins` do not import torch.
LABEL2CITY_1024P_CONFIG = {
    "netG": "local",
    "label_nc": 35,
    "input_nc": 3,
    "output_nc": 3,
    "no_instance": False,
    "ngf": 32,
    "n_downsample_global": 4,
    "n_blocks_global": 9,
    "n_local_enhancers": 1,
    "n_blocks_local": 3,
    "norm": "instance",
    "ndf": 64,
    "n_layers_D": 3,
    "num_D": 3,
    "no_ganFeat_loss": False,
    "with_discriminator": False,
    "image_size": 1024,
    "color_space": "rgb",
}

#: the parameters of a ``LABEL2CITY_1024P_CONFIG`` model (``tests`` check it against a build)
LABEL2CITY_1024P_PARAMS = 182_857_059

_DRIVE_PAGE = "https://drive.google.com/file/d/1h9SykUnuZul7J3Nbms2QGH1wa85nbN2-/view?usp=sharing"

LABEL2CITY_1024P_ENTRY = {
    "architecture": "pix2pixhd",
    "plugin": "zoo-pix2pixhd",
    "tasks": ["image-to-image"],
    "source": "upstream",
    "description": "The authors' pix2pixHD generator for Cityscapes at 2048x1024 (Wang et al., NVIDIA/pix2pixHD, "
    "label2city_1024p): a semantic label map (Cityscapes' 35 labelIds, one-hot) and its instance boundaries to a "
    "street photo, through a global generator at 1024x512 and a local enhancer at full resolution. The file lives "
    "on Google Drive, which needs a browser: download latest_net_G.pth yourself and save it where `zoo load "
    "pix2pixhd.label2city-1024p` says (or run `zoo convert pix2pixhd-nvidia latest_net_G.pth -o DIR` and `zoo load "
    "DIR`); it is converted (converter pix2pixhd-nvidia, legacy InstanceNorm statistics dropped) and its sha256 "
    "pinned on first use. Translate a labelIds PNG as read (ids / 255), with `instances=` the instanceIds map as "
    "integers (without it, the label map's own boundaries).",
    "config": LABEL2CITY_1024P_CONFIG,
    "num_params": LABEL2CITY_1024P_PARAMS,
    "dataset": {
        "name": "cityscapes",
        "split": "train (2,975 images with fine annotations, 2048x1024)",
        "url": "https://www.cityscapes-dataset.com/",
    },
    "metrics": [],
    "paper": {
        "title": "High-Resolution Image Synthesis and Semantic Manipulation with Conditional GANs",
        "authors": "Ting-Chun Wang, Ming-Yu Liu, Jun-Yan Zhu, Andrew Tao, Jan Kautz, Bryan Catanzaro",
        "year": 2018,
        "url": "https://arxiv.org/abs/1711.11585",
        "reference_code": "https://github.com/NVIDIA/pix2pixHD",
    },
    "license": "cc-by-nc-sa-4.0",
    "made_by": {
        "command": "python train.py --name label2city_1024p --netG local --ngf 32 --num_D 3 --load_pretrain "
        "checkpoints/label2city_512p/ --niter 50 --niter_decay 50 --niter_fix_global 10 --resize_or_crop none",
        "notes": "Trained by the authors: a global generator at 1024x512 first (label2city_512p), then the local "
        "enhancer at 2048x1024 with the global generator frozen for 10 epochs, then both (LSGAN, feature matching "
        "and VGG losses, lambda_feat 10, Adam 2e-4 beta1 0.5, 50 + 50 epochs). The file is the generator's pickled "
        "state dict (keys model.*, model1_1.*, model1_2.*; files of PyTorch before 0.4 carry InstanceNorm running "
        "statistics, dropped as the reference's loader ignores them), read only with torch.load(weights_only=True). "
        "The code and models are under CC BY-NC-SA 4.0 (NVIDIA); Cityscapes carries its own terms. Its size and "
        "the Drive page's liveness are unverified here.",
    },
    "tags": ["gan", "pix2pixhd", "image-to-image", "upstream", "cityscapes"],
    "weights": {
        "url": _DRIVE_PAGE,
        "manual": True,
        "filename": "latest_net_G.pth",
        "sha256": None,
        "format": "pickle",
        "converter": "pix2pixhd-nvidia",
    },
}


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="pix2pixhd",
            model="zoo_pix2pixhd.model:Pix2PixHD",
            tasks=("image-to-image",),
            description="pix2pixHD conditional GAN: a global generator and local enhancers (coarse-to-fine), "
            "multiscale PatchGAN discriminators, feature-matching loss, label maps with instance boundaries in, "
            "as NVIDIA/pix2pixHD.",
            paper="https://arxiv.org/abs/1711.11585",
            training_step="zoo_pix2pixhd.training:Pix2PixHDTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={
                "netG": "local",
                "label_nc": 0,
                "input_nc": 1,
                "no_instance": True,
                "ngf": 4,
                "n_downsample_global": 2,
                "n_blocks_global": 1,
                "n_blocks_local": 1,
                "ndf": 4,
                "n_layers_D": 2,
                "num_D": 2,
                "image_size": 32,
            },
            test_data={"batch_size": 2},
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "pix2pixhd-nvidia",
            architecture="pix2pixhd",
            convert="zoo_pix2pixhd.convert:convert_nvidia",
            source="NVIDIA/pix2pixHD latest_net_G.pth (global or local generator)",
            description="A pix2pixHD generator saved by the reference (keys model.*, model1_1.*, model1_2.* ...) as a "
            "generator-only pix2pixhd; legacy InstanceNorm statistics dropped; the default config is label2city_1024p "
            "(--netG local --ngf 32, 35 labels + instance edges); pass --config netG=global (ngf ...) for other files.",
            options={"config": dict(LABEL2CITY_1024P_CONFIG)},
        )
    )


@hookimpl
def register_models(register):
    register("pix2pixhd.label2city-1024p", copy.deepcopy(LABEL2CITY_1024P_ENTRY))
