"""The zoo hooks of zoo-discogan (no torch here: the model is imported only when built).

The data (``digits-mnist``) and the ``digits-mnist-translations`` protocol are zoo-cyclegan's;
this plugin adds the architecture and ``discogan-round-trip`` (cycle-l1 for any two-way model).

Example:
    $ zoo train discogan --dataset digits-mnist --config input_nc=1 --config output_nc=1 \\
          --config image_size=32 --steps 600 --out runs/discogan
"""

from __future__ import annotations

from zoo_core import Architecture, EvaluationProtocol, hookimpl


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="discogan",
            model="zoo_discogan.model:DiscoGAN",
            tasks=("image-to-image",),
            description="DiscoGAN: two conv encoder-decoder generators (A to B, B to A) and two conv "
            "discriminators trained on unpaired images with BCE GAN, feature-matching and reconstruction "
            "(MSE) losses under a curriculum (SKTBrain/DiscoGAN).",
            paper="https://arxiv.org/abs/1703.05192",
            training_step="zoo_discogan.training:DiscoGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"input_nc": 1, "output_nc": 1, "ngf": 4, "ndf": 4, "n_layers_G": 2, "image_size": 16},
            # update_interval=0: D then G in the one step the kit runs (the default's step 0 updates D only)
            test_data={"batch_size": 4, "train_config": {"update_interval": 0}},
        )
    )


@hookimpl
def register_evaluation_protocols(register):
    register(
        EvaluationProtocol(
            "discogan-round-trip",
            tasks=("image-to-image",),
            provides=("image", "reconstruction"),
            feed="zoo_discogan.evaluation:feed_round_trips",
            description="each image against its round trip through both generators (cycle-l1's direction "
            "option); zoo-cyclegan's round-trip for models other than CycleGANs",
            metrics=("cycle-l1",),
        )
    )
