"""Built-in metrics, the FID Inception network and its checkpoint converter, through the public hooks.

No torch here: every target is a ``"module:attribute"`` string imported only when used, so
``zoo list`` and ``zoo metrics`` stay cheap.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..specs import Architecture, Converter, EvaluationProtocol, MetricInfo

_GENERATIVE = ("unconditional", "text-to-image")
_TRANSLATION = ("image-to-image",)
_INCEPTION = "needs the converted Inception weights (ZOO_FID_INCEPTION, see `zoo convert fid-inception`)"

_METRICS = (
    # name, target, description, tasks, higher_is_better, unit
    ("fid", "zoo_core.metrics.features:FID",
     f"Fréchet Inception Distance between samples and real images in pool3 features; {_INCEPTION}.",
     _GENERATIVE, False, ""),
    ("kid", "zoo_core.metrics.features:KID",
     "Kernel Inception Distance (unbiased MMD², cubic kernel, 100 subsets of 1000, as torch-fidelity), "
     f"mean and std; {_INCEPTION}.", _GENERATIVE, False, ""),
    ("is", "zoo_core.metrics.features:InceptionScore",
     f"Inception Score over 10 splits (mean and std, as torchmetrics), bias-free logits; {_INCEPTION}.",
     _GENERATIVE, True, ""),
    ("elbo", "zoo_core.metrics.likelihood:ELBO",
     "Mean ELBO per image in nats, one posterior sample per image (seed 0).", ("latent",), True, "nats"),
    ("iwae-nll", "zoo_core.metrics.likelihood:IWAENLL",
     "Importance-weighted NLL estimate (Burda et al.), k=5000 posterior samples per image, nats.",
     ("latent",), False, "nats"),
    ("bpd", "zoo_core.metrics.likelihood:BitsPerDim",
     "Bits per dimension, -log p(x) / (C H W ln 2), of a density model of 8-bit pixels (pixel_levels 256).",
     ("density",), False, "bits/dim"),
    ("nll-binarized", "zoo_core.metrics.likelihood:BinarizedNLL",
     "Negative log-likelihood in nats per binary image of a density model of binary pixels (pixel_levels 2): "
     "binarized MNIST as the NADE / PixelCNN / PixelRNN papers quote it (--dataset mnist5k "
     "--dataset-option binarize=stochastic).", ("density",), False, "nats"),
    ("psnr", "zoo_core.metrics.image_quality:PSNR",
     "PSNR over all RGB channels, mean of per-image values.", _TRANSLATION, True, "dB"),
    ("ssim", "zoo_core.metrics.image_quality:SSIM",
     "SSIM (Gaussian 11x11, sigma 1.5, as skimage / Wang et al.) over RGB channels, mean per image.",
     _TRANSLATION, True, ""),
    ("psnr-y", "zoo_core.metrics.image_quality:psnr_y",
     "PSNR on the Y channel (BT.601, MATLAB rgb2ycbcr) with a border crop = scale (crop_border, default 4): "
     "the SR papers' protocol.", _TRANSLATION, True, "dB"),
    ("ssim-y", "zoo_core.metrics.image_quality:ssim_y",
     "SSIM on the Y channel (BT.601, MATLAB rgb2ycbcr) with a border crop = scale (crop_border, default 4): "
     "the SR papers' protocol.", _TRANSLATION, True, ""),
    ("l1", "zoo_core.metrics.translation:L1",
     "Mean absolute error between translations and targets in [0, 1] (per image, then averaged): "
     "pix2pix's L1 term as a metric.", _TRANSLATION, False, ""),
    ("cycle-l1", "zoo_core.metrics.translation:CycleL1",
     "Cycle-consistency L1: mean |x - F(G(x))| over pixels.", _TRANSLATION, False, ""),
    ("accuracy", "zoo_core.metrics.classification:Accuracy",
     "Top-1 accuracy of a classifier on a labelled dataset.", ("classification",), True, "fraction"),
    ("parzen-ll", "zoo_core.metrics.parzen:ParzenLogLikelihood",
     "Gaussian Parzen-window log-likelihood of the test images under 10,000 samples, in nats (Goodfellow et al. "
     "2014; sigma chosen on validation images over logspace(-1, 0, 10)), with its standard error (parzen-ll-se).",
     ("unconditional",), True, "nats"),
    ("pixel-accuracy", "zoo_core.metrics.translation:PixelAccuracy",
     "Per-pixel accuracy of label maps (label 255 ignored), as the FCN scores of pix2pix / CycleGAN.",
     _TRANSLATION, True, "fraction"),
)  # fmt: skip


#: the core's evaluation protocols (their feeds live in zoo_core.evaluation)
_PROTOCOLS = (
    EvaluationProtocol(
        "samples", ("unconditional",), ("fake", "real"), "zoo_core.evaluation:feed_samples",
        "n seeded samples against the first n images of the split", seeded=True,
    ),
    EvaluationProtocol(
        "captioned-samples", ("text-to-image",), ("fake", "real", "label"),
        "zoo_core.evaluation:feed_captioned_samples",
        "one sample per caption of a captioned dataset, in order, from one seeded noise stream", seeded=True,
    ),
    EvaluationProtocol(
        "likelihood", ("latent", "density"), ("model", "images"), "zoo_core.evaluation:feed_likelihood",
        "the model's likelihood of the split's images",
    ),
    EvaluationProtocol(
        "translation", ("image-to-image",), ("prediction", "target"), "zoo_core.evaluation:feed_translations",
        "translate(image) against the dataset's target",
    ),
    EvaluationProtocol(
        "classification", ("classification",), ("prediction", "target"),
        "zoo_core.evaluation:feed_classifications", "classify(image) against the dataset's label",
    ),
)  # fmt: skip


@hookimpl
def register_metrics(register):
    for name, create, description, tasks, higher_is_better, unit in _METRICS:
        register(
            MetricInfo(
                name=name,
                create=create,
                description=description,
                tasks=tasks,
                higher_is_better=higher_is_better,
                unit=unit,
            )
        )


@hookimpl
def register_evaluation_protocols(register):
    for protocol in _PROTOCOLS:
        register(protocol)


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="fid-inception",
            model="zoo_core.metrics.inception:FIDInceptionV3",
            tasks=("classification",),
            description="Inception-v3 of FID (TF 2015-12-05 graph, pytorch-fid's layout): pool3 features and "
            "1008-class logits for FID, KID and IS.",
            paper="https://arxiv.org/abs/1706.08500",
            test_data={"input_shape": [3, 75, 75]},  # the conformance kit's images (resized to 299 inside)
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            name="fid-inception",
            architecture="fid-inception",
            convert="zoo_core.metrics.inception:convert_pytorch_fid",
            source="pytorch-fid pt_inception-2015-12-05-6726825d.pth / "
            "torch-fidelity weights-inception-2015-12-05-6726825d.pth",
            description="The FID Inception-v3 checkpoint of pytorch-fid or torch-fidelity (same keys) to safetensors.",
        )
    )
