"""The zoo hooks of zoo-cyclegan (no torch here: the model is imported only when built).

Example:
    $ zoo train cyclegan --dataset digits-mnist --config input_nc=1 --config output_nc=1 \\
          --config image_size=28 --out runs/cyclegan
    $ zoo convert cyclegan-junyanz horse2zebra.pth -o hub/me/horse2zebra
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, DatasetInfo, EvaluationProtocol, hookimpl

#: the config of every official checkpoint (the reference's defaults, one generator); here, not in
#: convert.py, so that `zoo list` and `zoo plugins` do not import torch
OFFICIAL_CONFIG = {
    "input_nc": 3,
    "output_nc": 3,
    "ngf": 64,
    "ndf": 64,
    "netG": "resnet_9blocks",
    "netD": "basic",
    "n_layers_D": 3,
    "norm": "instance",
    "use_dropout": False,
    "image_size": 256,
    "directions": "AtoB",
    "with_discriminators": False,
}


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="cyclegan",
            model="zoo_cyclegan.model:CycleGAN",
            tasks=("image-to-image",),
            description="CycleGAN: two ResNet generators (A to B, B to A) and two 70x70 PatchGAN discriminators "
            "trained on unpaired images with LSGAN, cycle and identity losses (junyanz/pytorch-CycleGAN-and-pix2pix).",
            paper="https://arxiv.org/abs/1703.10593",
            training_step="zoo_cyclegan.training:CycleGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={
                "input_nc": 1,
                "output_nc": 1,
                "netG": "resnet_6blocks",
                "ngf": 4,
                "ndf": 4,
                "netD": "n_layers",
                "n_layers_D": 1,
                "image_size": 16,
            },
            test_data={"batch_size": 1},
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "cyclegan-junyanz",
            architecture="cyclegan",
            convert="zoo_cyclegan.convert:convert_junyanz",
            source="junyanz/pytorch-CycleGAN-and-pix2pix latest_net_G_A.pth / latest_net_G_B.pth, "
            "official pretrained_models/{name}.pth",
            description="One generator of the reference (keys model.N, legacy InstanceNorm keys dropped) as a "
            "single-direction cyclegan; --config directions=BtoA for a G_B file, ngf / netG / channels when "
            "it was trained so.",
            options={"config": dict(OFFICIAL_CONFIG)},
        )
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetInfo(
            name="digits-mnist",
            load="zoo_cyclegan.data:load_digits_mnist",
            description="Unpaired digits for CycleGAN: A = scikit-learn's 8x8 digits upscaled (blurry), B = mnist5k "
            "(sharp strokes), 28x28 grey (size=, margin=); a seeded random B per A as the unpaired folders; "
            "splits train 1,442 A / 4,500 B, test 355 A / 500 B.",
            splits=("train", "test"),
            image_size=(28, 28),
            channels=1,
            license="CC BY 4.0 (UCI optdigits) and CC BY-SA 3.0 (MNIST)",
        )
    )


@hookimpl
def register_evaluation_protocols(register):
    register(
        EvaluationProtocol(
            "round-trip",
            tasks=("image-to-image",),
            provides=("image", "reconstruction"),
            feed="zoo_cyclegan.evaluation:feed_round_trips",
            description="each image against its round trip through both generators (cycle-l1's direction option)",
            metrics=("cycle-l1",),
        )
    )
    register(
        EvaluationProtocol(
            "digits-mnist-translations",
            tasks=("image-to-image",),
            provides=("fake", "real", "label"),
            feed="zoo_cyclegan.evaluation:feed_digits_mnist_translations",
            description="translations of every domain A image of digits-mnist against all of domain B, with A's labels",
            metrics=("fid-mnist", "kid-mnist", "is-mnist", "digit-agreement"),
            datasets=("digits-mnist",),
        )
    )
