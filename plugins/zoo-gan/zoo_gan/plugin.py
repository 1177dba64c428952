"""The zoo hooks of zoo-gan (no torch here: the model is imported only when built).

Registers the architecture ``gan``. The paper scores its samples with the Parzen-window
log-likelihood, zoo's built-in metric ``parzen-ll`` (``zoo_core.metrics.parzen``).

Example:
    $ zoo train gan --dataset mnist5k --out runs/gan-mnist --epochs 100
    $ zoo eval gan.mnist --metric parzen-ll
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="gan",
            model="zoo_gan.model:GAN",
            tasks=("unconditional",),
            description="The original GAN (Goodfellow et al. 2014): ReLU/sigmoid MLP generator and maxout "
            "discriminator with dropout, goodfeli/adversarial mnist.yaml; 28x28 grey digits.",
            paper="https://arxiv.org/abs/1406.2661",
            training_step="zoo_gan.training:GANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 8, "nz": 4, "g_hidden": 16, "d_units": 8, "d_pieces": 2},
        )
    )
