"""Built-in classifier and the metrics it defines, registered through the public hooks (no torch here)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..specs import Architecture, MetricInfo

_GENERATIVE = ("unconditional", "text-to-image")


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="mnistnet",
            model="zoo_core.builtin.mnistnet:MNISTNet",
            tasks=("classification",),
            description="The digit classifier of pytorch/examples mnist/main.py; FID-MNIST's feature extractor.",
            paper="https://github.com/pytorch/examples/blob/main/mnist/main.py",
            test_data={"input_shape": [1, 28, 28]},  # the conformance kit's images: grey 28x28 digits
        )
    )


@hookimpl
def register_metrics(register):
    register(
        MetricInfo(
            name="fid-mnist",
            create="zoo_core.builtin.mnistnet:fid_mnist",
            description="Fréchet distance between samples and real digits in mnistnet.mnist5k's 128-d fc1 features.",
            tasks=_GENERATIVE,
            higher_is_better=False,
        )
    )
    register(
        MetricInfo(
            name="kid-mnist",
            create="zoo_core.builtin.mnistnet:kid_mnist",
            description="Kernel Inception Distance in mnistnet.mnist5k's 128-d fc1 features (cubic kernel).",
            tasks=_GENERATIVE,
            higher_is_better=False,
        )
    )
    register(
        MetricInfo(
            name="is-mnist",
            create="zoo_core.builtin.mnistnet:inception_score_mnist",
            description="Inception Score with mnistnet.mnist5k's class probabilities in place of Inception's.",
            tasks=_GENERATIVE,
            higher_is_better=True,
        )
    )
    register(
        MetricInfo(
            name="digit-agreement",
            create="zoo_core.builtin.mnistnet:DigitAgreement",
            description="Fraction of conditional samples that mnistnet.mnist5k reads as the digit their condition "
            "names (a text-to-image model's images drawn from a captioned dataset's captions, against its labels).",
            tasks=("text-to-image",),
            higher_is_better=True,
            unit="fraction",
        )
    )
