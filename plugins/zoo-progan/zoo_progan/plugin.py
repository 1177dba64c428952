"""The zoo hooks of zoo-progan (no torch here: the model is imported only when built).

Example:
    $ zoo train progan --dataset mnist5k --dataset-option size=32 --out runs/progan-mnist \\
          --config fmap_base=1024 --config fmap_max=128
    $ zoo convert progan-genforce pytorch_model.bin -o progan-celebahq-1024
    $ zoo convert progan-karras karras2018iclr-celebahq-1024x1024.pkl -o progan-celebahq-1024
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, hookimpl

#: the official CelebA-HQ 1024x1024 generator (``karras2018iclr-celebahq-1024x1024.pkl``, trained by the Theano
#: code and converted by the TF release's legacy.py: separate upscale / downscale layers, minibatch stddev group
#: 16), as genforce's PGGANGenerator(resolution=1024) holds it; here, not in convert.py, so that `zoo list` and
#: `zoo plugins` do not import torch
CELEBAHQ_CONFIG = {
    "resolution": 1024,
    "channels": 3,
    "fmap_base": 8192,
    "fmap_decay": 1.0,
    "fmap_max": 512,
    "latent_size": None,
    "normalize_latents": True,
    "use_wscale": True,
    "use_pixelnorm": True,
    "pixelnorm_epsilon": 1e-8,
    "fused_scale": False,
    "mbstd_group_size": 16,
    "with_discriminator": False,
    "with_ema": False,
}


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="progan",
            model="zoo_progan.model:ProGAN",
            tasks=("unconditional",),
            description="Progressive GAN (Karras et al. 2018): equalized learning rate, pixelwise feature "
            "normalisation, minibatch standard deviation, networks grown from 4x4 with fade-in, WGAN-GP with "
            "the drift term; G_paper / D_paper of tkarras/progressive_growing_of_gans in genforce's layout.",
            paper="https://arxiv.org/abs/1710.10196",
            training_step="zoo_progan.training:ProGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"resolution": 8, "fmap_base": 32, "fmap_max": 8},
            # one kit step half-way through fading 8x8 in (lod 0.5), where every parameter takes part
            test_data={
                "batch_size": 4,
                "dataset": "mnist5k",
                "options": {"size": 8},
                "train_config": {"lod_training_kimg": 1, "lod_transition_kimg": 1, "resume_kimg": 1.5},
            },
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "progan-genforce",
            architecture="progan",
            convert="zoo_progan.convert:convert_genforce",
            source="genforce's PGGANGenerator state dict, as the Hub's huggan/pggan-celebahq-1024 pytorch_model.bin",
            description="A PGGAN generator in genforce's layout (lod, layer{k}.weight/bias, output{k}.weight/bias), "
            "alone or in genforce's {generator, discriminator, generator_smooth} checkpoint (generator_smooth is "
            "taken), as a progan; the default config is the official CelebA-HQ 1024x1024 generator's.",
            options={"config": dict(CELEBAHQ_CONFIG)},
        )
    )
    register(
        Converter(
            "progan-karras",
            architecture="progan",
            convert="zoo_progan.convert:convert_official",
            source="the official karras2018iclr-*.pkl of tkarras/progressive_growing_of_gans (TensorFlow release)",
            description="The (G, D, Gs) tfutil.Network pickle of the authors, read by a restricted unpickler that "
            "builds numpy arrays and inert stubs only (no code from the file runs; anything else is refused): Gs "
            "as the generator, D as the critic with --config with_discriminator=true; the default config is "
            "CelebA-HQ 1024x1024's, and the networks' static_kwargs are checked against it.",
            # the reader zoo must use instead of torch.load: a plain pickle of TensorFlow objects
            options={"config": dict(CELEBAHQ_CONFIG), "read": "zoo_progan.tfpickle:read_official_pickle"},
        )
    )


@hookimpl
def register_models(register):
    from .upstream import upstream_entries

    for name, entry in upstream_entries().items():
        register(name, entry)
