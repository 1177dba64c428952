"""The zoo hooks of zoo-autoencoder (no torch here: the model and the metric are imported only when used).

Example:
    $ zoo train autoencoder --dataset mnist5k --out runs/autoencoder-mnist
    $ zoo eval autoencoder.mnist --metric recon-mse --dataset mnist5k
"""

from __future__ import annotations

from zoo_core import Architecture, MetricInfo, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="autoencoder",
            model="zoo_autoencoder.model:Autoencoder",
            tasks=("unconditional", "latent"),
            description="Plain autoencoder, 784-300 ReLU-784 sigmoid, summed cross-entropy, RMSProp "
            "(lazyprogrammer unsupervised_class3); samples decode draws of a Gaussian fitted to the training codes.",
            paper="https://github.com/lazyprogrammer/machine_learning_examples/blob/master/unsupervised_class3/"
            "autoencoder_tf.py",
            training_step="zoo_autoencoder.training:AutoencoderTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 8, "code_dim": 4},
        )
    )


@hookimpl
def register_metrics(register):
    register(
        MetricInfo(
            name="recon-mse",
            create="zoo_autoencoder.metrics:ReconstructionMSE",
            description="Reconstruction error of a latent model: mean squared error per pixel between images in "
            "[0, 1] and decode(encode(image)).",
            tasks=("latent",),
            higher_is_better=False,
            unit="",
        )
    )
