"""The zoo hooks of zoo-nade (no torch here: the model is imported only when built).

Example:
    $ zoo train nade --dataset mnist5k --dataset-option binarize=stochastic --out runs/nade-mnist
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="nade",
            model="zoo_nade.model:NADE",
            tasks=("unconditional", "density"),
            description="NADE: one sigmoid hidden layer with tied input weights and a running pre-activation, "
            "Bernoulli conditionals over binary pixels in raster order (Larochelle & Murray 2011).",
            paper="https://proceedings.mlr.press/v15/larochelle11a.html",
            training_step="zoo_nade.training:NADETrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 6, "hidden_dim": 8},
        )
    )
