"""The zoo hooks of zoo-icgan (no torch here: the model is imported only when built).

Example:
    $ zoo train icgan --dataset mnist5k --dataset-option size=32 --out runs/icgan \\
          --config image_size=32 --steps 5500 --train-config gan_steps=3000
    $ zoo eval icgan.mnist --metric edit-agreement
    $ zoo tasks   # lists class-conditional and image-editing, from zoo-icgan
"""

from __future__ import annotations

from zoo_core import Architecture, EvaluationProtocol, MetricInfo, Task, hookimpl
from zoo_icgan.tasks import ClassConditional, ImageEditing


@hookimpl
def register_tasks(register):
    register(
        Task(
            "sample(n, *, labels, seed, progress)",
            "unconditional-image-generation",
            ClassConditional,
            "class-conditional",
            base="zoo_icgan.tasks:ClassConditionalGenerator",
            conformance="zoo_icgan.tasks:class_conditional_calls",
        )
    )
    register(
        Task(
            "edit(x, y, *, seed), encode(x)",
            "image-to-image",
            ImageEditing,
            "image-editing",
            base="zoo_icgan.tasks:ImageEditor",
            conformance="zoo_icgan.tasks:image_editing_calls",
        )
    )


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="icgan",
            model="zoo_icgan.model:IcGAN",
            tasks=("unconditional", "class-conditional", "image-editing"),
            description="Invertible conditional GAN: a conditional DCGAN (class at G's input and after D's first "
            "convolution) and encoders E_z, E_y trained after it; edit(x, y) = G(E_z(x), y) changes a digit's "
            "class and keeps its style (Guim3/IcGAN).",
            paper="https://arxiv.org/abs/1611.06355",
            training_step="zoo_icgan.training:IcGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing): its one step is
            # the GAN phase's (the encoders' phase is tested in tests/test_icgan.py)
            test_config={
                "image_size": 16,
                "channels": 1,
                "nz": 8,
                "ngf": 8,
                "ndf": 8,
                "encoder_layers": 2,
                "encoder_nf": 4,
                "encoder_y_fc": 16,
            },
        )
    )


@hookimpl
def register_metrics(register):
    register(
        MetricInfo(
            name="edit-agreement",
            create="zoo_icgan.metrics:EditAgreement",
            description="Fraction of edited digits (each test digit edited to every other class) that "
            "mnistnet.mnist5k reads as the class they were edited to; chance 0.1.",
            tasks=("image-editing",),
            higher_is_better=True,
            unit="fraction",
        )
    )
    register(
        MetricInfo(
            name="reconstruction-l1",
            create="zoo_icgan.metrics:ReconstructionL1",
            description="Mean absolute pixel difference (in [0, 1]) between each test image and its edit to "
            "its own class, G(E_z(x), y).",
            tasks=("image-editing",),
            higher_is_better=False,
        )
    )


@hookimpl
def register_evaluation_protocols(register):
    register(
        EvaluationProtocol(
            "edits",
            tasks=("image-editing",),
            provides=("image", "reconstruction", "edited", "target"),
            feed="zoo_icgan.evaluation:feed_edits",
            description="each labelled test image edited to its own class (reconstruction) and to every other "
            "class (edited, target)",
            metrics=("edit-agreement", "reconstruction-l1"),
        )
    )


@hookimpl
def register_commands(cli):
    """``zoo edit``: images edited to a class, written as files or one grid (``zoo_icgan.cli``; torch only when
    it runs)."""
    from zoo_icgan.cli import edit

    cli.add_command(edit)
