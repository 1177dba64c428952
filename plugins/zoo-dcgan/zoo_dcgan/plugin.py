"""The zoo hooks of zoo-dcgan (no torch here: the model is imported only when built).

Example:
    $ zoo train dcgan --dataset mnist5k --dataset-option size=32 --out runs/dcgan \\
          --config image_size=32 --config channels=1
    $ zoo convert dcgan-huggan pytorch_model.bin -o hub/me/dcgan-mnist
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, hookimpl

_GENERATOR_ONLY = {"image_size": 64, "channels": 3, "nz": 100, "ngf": 64, "ndf": 64, "with_discriminator": False}


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="dcgan",
            model="zoo_dcgan.model:DCGAN",
            tasks=("unconditional",),
            description="Deep convolutional GAN: ConvTranspose/BatchNorm generator and conv discriminator "
            "(pytorch/examples dcgan); 64x64 by default, any power-of-two image size.",
            paper="https://arxiv.org/abs/1511.06434",
            training_step="zoo_dcgan.training:DCGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8},
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "dcgan-huggan",
            architecture="dcgan",
            convert="zoo_dcgan.convert:convert_huggan",
            source="huggan/dcgan-mnist pytorch_model.bin",
            description="The generator of huggan/dcgan-mnist (keys model.N, 64x64 RGB) as a generator-only dcgan.",
            options={"config": dict(_GENERATOR_ONLY)},
        )
    )
    register(
        Converter(
            "dcgan-pytorch-examples",
            architecture="dcgan",
            convert="zoo_dcgan.convert:convert_pytorch_examples",
            source="pytorch/examples dcgan/main.py netG_epoch_N.pth",
            description="A generator saved by the reference script (keys main.N) as a generator-only dcgan; "
            "pass --config channels=1 (image_size, nz, ngf) when it was trained so.",
            options={"config": dict(_GENERATOR_ONLY)},
        )
    )
