"""The zoo hooks of zoo-cogan (no torch here: the model is imported only when built).

Example:
    $ zoo train cogan --dataset mnist-edges --config pair=edges --config ngf=256 --out runs/cogan-edges
    $ zoo eval cogan.mnist-edges --metric pair-agreement
"""

from __future__ import annotations

from zoo_core import Architecture, DatasetInfo, EvaluationProtocol, MetricInfo, hookimpl

_MNIST = "CC BY-SA 3.0 (MNIST, LeCun, Cortes and Burges)"


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="cogan",
            model="zoo_cogan.model:CoGAN",
            tasks=("unconditional",),
            description="Coupled GAN: two generators sharing all but their last layer and two discriminators "
            "sharing all but their first, trained on unpaired digits of two domains; draws pairs (digit | edges "
            "or digit | negative) side by side, 28x56 (mingyuliutw/CoGAN, its PyTorch port).",
            paper="https://arxiv.org/abs/1606.07536",
            training_step="zoo_cogan.training:CoGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"ngf": 16, "latent_dims": 8, "d_conv0": 4, "d_conv1": 4, "d_conv2": 8},
            test_data={"batch_size": 4},
        )
    )


@hookimpl
def register_datasets(register):
    for name, pair, what in (
        ("mnist-edges", "edges", "their edge images (dilate 3x3 minus the digit)"),
        ("mnist-negative", "negative", "their negatives (1 - x)"),
    ):
        register(
            DatasetInfo(
                name=name,
                load=f"zoo_cogan.data:load_mnist_{pair}",
                description=f"Two unpaired domains for CoGAN: mnist5k digits and {what}, made from disjoint halves "
                "of each split (a fixed shuffle, split_seed=0): train 2,250 + 2,250, test 250 + 250; items "
                "{image: domain 1, target: a seeded random domain-2 image}.",
                splits=("train", "test"),
                image_size=(28, 28),
                channels=1,
                license=_MNIST,
            )
        )


@hookimpl
def register_metrics(register):
    register(
        MetricInfo(
            name="pair-agreement",
            create="zoo_cogan.metrics:PairAgreement",
            description="Average pixel agreement ratio of generated pairs (CoGAN): the domain transform of the "
            "first image (edges or negative, the model's pair) against the second, both binarized at 0.5; "
            "10,000 seeded pairs by default.",
            tasks=("unconditional",),
            higher_is_better=True,
            unit="",
        )
    )


@hookimpl
def register_evaluation_protocols(register):
    register(
        EvaluationProtocol(
            "pairs",
            tasks=("unconditional",),
            provides=("first", "second"),
            feed="zoo_cogan.evaluation:feed_pairs",
            description="seeded pairs (first, second) of a model that draws two domains at once (cogan), "
            "10,000 unless -n says",
            metrics=("pair-agreement",),
            seeded=True,
        )
    )
