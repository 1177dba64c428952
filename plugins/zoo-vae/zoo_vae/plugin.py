"""The zoo hooks of zoo-vae (no torch here: the model is imported only when built)."""

from __future__ import annotations

from zoo_core import Architecture, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="vae",
            model="zoo_vae.model:VAE",
            tasks=("unconditional", "latent"),
            description="Variational autoencoder, 784-400-20 MLP with a Bernoulli decoder (pytorch/examples).",
            paper="https://arxiv.org/abs/1312.6114",
            training_step="zoo_vae.training:VAETrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"hidden_dim": 16, "latent_dim": 2},
        )
    )
