"""The zoo hooks of zoo-infogan (no torch here: the model and the metric are imported only when used).

``code-accuracy`` is a metric of the ``classification`` task: ``zoo eval`` feeds it with the core's
``classification`` protocol (``classify(image)``, here Q's categorical logits, against the label).

Example:
    $ zoo train infogan --dataset mnist5k --out runs/infogan-mnist --steps 1800 --name infogan.mnist
    $ zoo eval infogan.mnist --metric code-accuracy --dataset mnist5k
"""

from __future__ import annotations

from zoo_core import Architecture, MetricInfo, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="infogan",
            model="zoo_infogan.model:InfoGAN",
            tasks=("unconditional", "classification"),
            description="InfoGAN: a GAN whose generator takes categorical and continuous codes that a Q head on the "
            "discriminator's body must recover (mutual-information lower bound), openai/InfoGAN's MNIST networks; "
            "sample(codes=...) fixes the codes, classify(x) is Q's categorical code.",
            paper="https://arxiv.org/abs/1606.03657",
            training_step="zoo_infogan.training:InfoGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={
                "image_size": 8,
                "noise_dim": 4,
                "categories": 3,
                "continuous": 2,
                "g_hidden": 16,
                "g_channels": 8,
                "d_channels": 4,
                "d_hidden": 16,
                "q_hidden": 8,
            },
        )
    )


@hookimpl
def register_metrics(register):
    register(
        MetricInfo(
            name="code-accuracy",
            create="zoo_infogan.metrics:CodeAccuracy",
            description="Accuracy of a classifier's arg-max class (InfoGAN: the categorical code Q(c|x)) after the "
            "best one-to-one matching of codes to labels (Hungarian method): InfoGAN's 'categorical code as a "
            "classifier' (about 0.95 on MNIST in the paper).",
            tasks=("classification",),
            higher_is_better=True,
            unit="fraction",
        )
    )
