"""The zoo hooks of zoo-pixelcnn (no torch here: the model is imported only when built).

Example:
    $ zoo train pixelcnn --dataset mnist5k --dataset-option binarize=stochastic --out runs/pixelcnn
    $ zoo eval pixelcnn.mnist --metric nll-binarized
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="pixelcnn",
            model="zoo_pixelcnn.model:PixelCNN",
            tasks=("unconditional", "density"),
            description="PixelCNN (van den Oord et al. 2016): a 7x7 mask-A convolution, residual blocks of "
            "3x3 mask-B convolutions, 1x1 mask-B head; one Bernoulli per binary pixel; cached fast sampling.",
            paper="https://arxiv.org/abs/1601.06759",
            training_step="zoo_pixelcnn.training:PixelCNNTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 8, "n_residual": 2, "residual_channels": 4, "head_channels": 8},
        )
    )
