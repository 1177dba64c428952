"""The zoo hooks of zoo-srgan (no torch here: the model is imported only when built).

Example:
    $ zoo train srgan --dataset photos --out runs/srresnet-x4 --steps 600
    $ zoo convert srgan-goodfellowliu SRGAN_x4-SRGAN_ImageNet.pth.tar -o hub/me/srgan-x4
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, MetricInfo, hookimpl

#: the config of the published generators (x4; x2 and x8 differ in upscale_factor only); here, not in
#: convert.py, so that `zoo list` and `zoo plugins` do not import torch
GENERATOR_CONFIG = {
    "upscale_factor": 4,
    "channels": 3,
    "width": 64,
    "num_rcb": 16,
    "with_discriminator": False,
    "d_width": 64,
    "discriminator_size": 96,
}
_BICUBIC = (
    "of bicubic upscaling (PIL, 8-bit) of each target's bicubic x4 LR image, on the Y channel (BT.601) with a "
    "4-pixel border crop: the baseline of an x4 SR model's psnr-y / ssim-y (the prediction is not used)."
)


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="srgan",
            model="zoo_srgan.model:SRGAN",
            tasks=("image-to-image",),
            description="SRResNet generator (16 residual blocks, PixelShuffle x2 / x4 / x8) and the SRGAN "
            "discriminator of Ledig et al., in Lornatang/SRGAN-PyTorch's layout: super-resolution of RGB images.",
            paper="https://arxiv.org/abs/1609.04802",
            training_step="zoo_srgan.training:SRGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"upscale_factor": 2, "width": 8, "num_rcb": 1},
            test_data={"batch_size": 2},
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "srgan-goodfellowliu",
            architecture="srgan",
            convert="zoo_srgan.convert:convert_goodfellowliu",
            source="goodfellowliu/SRGAN-PyTorch SRGAN_x*-SRGAN_ImageNet.pth.tar / SRResNet_x*-SRGAN_ImageNet.pth.tar",
            description="A generator of Lornatang/SRGAN-PyTorch ({'state_dict': ...}, '_orig_mod.' prefix) as a "
            "generator-only srgan; pass --config upscale_factor=2 or 8 for the x2 / x8 files.",
            options={"config": dict(GENERATOR_CONFIG)},
        )
    )


@hookimpl
def register_metrics(register):
    for name, create, what in (
        ("psnr-y-bicubic", "zoo_srgan.metrics:BicubicPSNR", "PSNR"),
        ("ssim-y-bicubic", "zoo_srgan.metrics:BicubicSSIM", "SSIM"),
    ):
        register(
            MetricInfo(
                name=name,
                create=create,
                description=f"{what} {_BICUBIC}",
                tasks=("image-to-image",),
                higher_is_better=True,
                unit="dB" if what == "PSNR" else "",
            )
        )
