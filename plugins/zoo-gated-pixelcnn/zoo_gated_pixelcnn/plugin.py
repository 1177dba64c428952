"""The zoo hooks of zoo-gated-pixelcnn (no torch here: the model is imported only when built).

Example:
    $ zoo train gated-pixelcnn --dataset mnist5k --dataset-option binarize=stochastic --out runs/gated
    $ zoo eval gated-pixelcnn.mnist --metric nll-binarized
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="gated-pixelcnn",
            model="zoo_gated_pixelcnn.model:GatedPixelCNN",
            tasks=("unconditional", "density"),
            description="Gated PixelCNN (van den Oord et al. 2016, PixelCNN Decoders): vertical and horizontal "
            "stacks (no blind spot), tanh x sigmoid gates, residual and skip connections; one Bernoulli per "
            "binary pixel (or a 256-way softmax: pixel_levels=256); cached fast sampling.",
            paper="https://arxiv.org/abs/1606.05328",
            training_step="zoo_gated_pixelcnn.training:GatedPixelCNNTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 8, "n_gated": 2, "gated_channels": 4, "head_channels": 8},
        )
    )
