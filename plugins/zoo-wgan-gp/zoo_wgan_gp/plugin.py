"""The zoo hooks of zoo-wgan-gp (no torch here: the model is imported only when built).

Example:
    $ zoo train wgan-gp --dataset mnist5k --out runs/wgan-gp --steps 100000
"""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="wgan-gp",
            model="zoo_wgan_gp.model:WGANGP",
            tasks=("unconditional",),
            description="WGAN with gradient penalty (lambda 10, 5 critic iterations per generator step, Adam 1e-4): "
            "the 28x28 MNIST networks of igul222/improved_wgan_training gan_mnist.py, no batch norm.",
            paper="https://arxiv.org/abs/1704.00028",
            training_step="zoo_wgan_gp.training:WGANGPTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing); with
            # n_critic 1 one kit step trains the critic and then the generator
            test_config={"dim": 4, "nz": 8},
            test_data={"train_config": {"n_critic": 1}},
        )
    )
