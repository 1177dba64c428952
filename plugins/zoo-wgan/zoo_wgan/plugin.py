"""The zoo hooks of zoo-wgan (no torch here: the model is imported only when built).

Example:
    $ zoo train wgan --dataset mnist5k --dataset-option size=32 --out runs/wgan \\
          --config image_size=32 --config channels=1
    $ zoo convert wgan-arjovsky netG_epoch_24.pth -o hub/me/wgan --config image_size=32 --config channels=1
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="wgan",
            model="zoo_wgan.model:WGAN",
            tasks=("unconditional",),
            description="Wasserstein GAN: weight-clipped critic trained 5 times per generator step with RMSProp "
            "(martinarjovsky/WassersteinGAN); DCGAN or MLP networks, any power-of-two image size from 16.",
            paper="https://arxiv.org/abs/1701.07875",
            training_step="zoo_wgan.training:WGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing); with
            # n_critic 1 and no warm-up one kit step trains the critic and then the generator
            test_config={"image_size": 16, "channels": 1, "nz": 8, "ngf": 8, "ndf": 8},
            test_data={"train_config": {"n_critic": 1, "warmup_generator_iters": 0, "warmup_every": 0}},
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "wgan-arjovsky",
            architecture="wgan",
            convert="zoo_wgan.convert:convert_arjovsky",
            source="martinarjovsky/WassersteinGAN main.py netG_epoch_N.pth",
            description="A generator saved by the reference script (keys main.initial:NZ-C:convt...) as a "
            "generator-only wgan; pass the --config values of its generator_config.json (image_size, "
            "channels, ngf, n_extra_layers, batch_norm=false for --noBN, model=mlp for --mlp_G).",
            options={"config": {"with_critic": False}},
        )
    )
