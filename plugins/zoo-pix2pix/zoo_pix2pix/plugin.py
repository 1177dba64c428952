"""The zoo hooks of zoo-pix2pix (no torch here: the model is imported only when built).

Example:
    $ zoo train pix2pix --dataset photos-colorize --config color_space=lab --config input_nc=1 \\
          --config output_nc=2 --config netG=unet_128 --config image_size=128 --out runs/pix2pix-colorize
    $ zoo convert pix2pix-junyanz facades_label2photo.pth -o hub/me/pix2pix-facades
    $ zoo translate pix2pix.colorize old-photo.jpg -o coloured.png
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, DatasetInfo, hookimpl

#: the config of every official checkpoint (the reference's defaults, one generator); here, not in
#: convert.py, so that `zoo list` and `zoo plugins` do not import torch
OFFICIAL_CONFIG = {
    "input_nc": 3,
    "output_nc": 3,
    "ngf": 64,
    "ndf": 64,
    "netG": "unet_256",
    "netD": "basic",
    "n_layers_D": 3,
    "norm": "batch",
    "use_dropout": True,
    "image_size": 256,
    "with_discriminator": False,
    "test_time_dropout": True,
    "color_space": "rgb",
}


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="pix2pix",
            model="zoo_pix2pix.model:Pix2Pix",
            tasks=("image-to-image",),
            description="pix2pix conditional GAN: U-Net generator (unet_256, batch norm, dropout kept at test time "
            "as the paper) and 70x70 PatchGAN on the (input, output) pair, as junyanz/pytorch-CycleGAN-and-pix2pix.",
            paper="https://arxiv.org/abs/1611.07004",
            training_step="zoo_pix2pix.training:Pix2PixTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"netG": "unet_32", "image_size": 32, "ngf": 4, "ndf": 4, "n_layers_D": 1},
            test_data={"batch_size": 2},
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "pix2pix-junyanz",
            architecture="pix2pix",
            convert="zoo_pix2pix.convert:convert_junyanz",
            source="junyanz/pytorch-CycleGAN-and-pix2pix *_net_G.pth (the authors' models-pytorch/{name}.pth)",
            description="A pix2pix generator saved by the reference (keys model.model.N...) as a generator-only "
            "pix2pix; legacy BatchNorm / InstanceNorm keys handled; pass --config netG=unet_128 (input_nc ...) "
            "for other generators.",
            options={"config": dict(OFFICIAL_CONFIG)},
        )
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetInfo(
            name="photos-colorize",
            load="zoo_pix2pix.data:load_colorize",
            description="Grey -> colour pairs from the offline photos (grey = PIL's luma): train = random "
            "crop_size crops (128 by default, 1,000 per epoch, flipped) of the seven training photos; test = "
            "chelsea, coffee and grace_hopper whole.",
            splits=("train", "test"),
            image_size=None,
            channels=1,
            license="public domain / CC0 (scikit-image, grace_hopper); CC BY 2.0 (scikit-learn's china, flower)",
        )
    )
