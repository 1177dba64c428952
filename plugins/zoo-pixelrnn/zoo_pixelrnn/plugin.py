"""The zoo hooks of zoo-pixelrnn (no torch here: the model is imported only when built).

Example:
    $ zoo train pixelrnn --dataset mnist5k --dataset-option binarize=stochastic --out runs/pixelrnn
    $ zoo train pixelrnn --config layer=row-lstm --dataset mnist5k --dataset-option binarize=stochastic --out runs/r
    $ zoo eval pixelrnn.mnist --metric nll-binarized
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="pixelrnn",
            model="zoo_pixelrnn.model:PixelRNN",
            tasks=("unconditional", "density"),
            description="PixelRNN (van den Oord et al. 2016): a 7x7 mask-A convolution, residual Row LSTM or "
            "Diagonal BiLSTM layers (config `layer`), a 1x1 head; one Bernoulli per binary pixel; cached fast "
            "sampling.",
            paper="https://arxiv.org/abs/1601.06759",
            training_step="zoo_pixelrnn.training:PixelRNNTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 6, "n_layers": 2, "hidden_channels": 4, "head_channels": 8},
        )
    )
