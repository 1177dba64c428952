"""MNISTNet: the digit classifier of pytorch/examples ``mnist/main.py``, the feature extractor of FID-MNIST.

conv1 1->32 3x3, ReLU; conv2 32->64 3x3, ReLU; max-pool 2; dropout 0.25; fc1 9216->128, ReLU;
dropout 0.5; fc2 128->10. Inputs are normalised with MNIST's mean and std (0.1307, 0.3081) inside
the model, so it takes images in [0, 1] like every zoo model. ``features(x)`` are the 128
activations after fc1 and its ReLU: the space in which FID-MNIST and KID-MNIST compare images.

Trained on mnist5k as the reference trains on MNIST (Adadelta lr 1.0, StepLR gamma 0.7, batch 64,
14 epochs, seed 1):

    python -m zoo_core.builtin.mnistnet --out hub/zoo/mnistnet-mnist5k --register mnistnet.mnist5k
"""

from __future__ import annotations

import argparse
import functools
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .._errors import ZooError
from ..metrics import Metric
from ..modeling import ImageClassifier, ModelConfig, ZooModel, check_images

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
REPO_ID = "zoo/mnistnet-mnist5k"


@dataclass
class MNISTNetConfig(ModelConfig):
    num_classes: int = 10


class MNISTNet(ImageClassifier, ZooModel):
    """The pytorch/examples MNIST classifier; its state-dict keys are the reference's (conv1, conv2, fc1, fc2)."""

    architecture = "mnistnet"
    config_class = MNISTNetConfig

    def __init__(self, config: MNISTNetConfig) -> None:
        super().__init__(config)
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, config.num_classes)

    def _trunk(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - MNIST_MEAN) / MNIST_STD
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        return F.relu(self.fc1(torch.flatten(self.dropout1(x), 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of the classes, as the reference returns them."""
        return F.log_softmax(self.fc2(self.dropout2(self._trunk(x))), dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128-d fc1 activations of 28x28 grey images in [0, 1]."""
        check_images(x, channels=1, size=(28, 28), what="MNISTNet")
        return self._trunk(x)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of 28x28 grey images in [0, 1]."""
        check_images(x, channels=1, size=(28, 28), what="MNISTNet")
        return self.fc2(self.dropout2(self._trunk(x)))


class MNISTFeatures(nn.Module):
    """MNISTNet as a feature extractor for FID-MNIST, KID-MNIST and the MNIST Inception Score.

    Takes images in [0, 1] of any size and 1 or 3 channels: RGB is averaged to grey and other
    sizes are resized to 28x28 (bilinear, antialiased), so digits of other data sets can be scored.
    """

    protocol = "mnistnet.mnist5k fc1 features (128-d); 28x28 grey in [0, 1], bilinear resize, RGB averaged"

    def __init__(self, classifier: MNISTNet) -> None:
        super().__init__()
        self.classifier = classifier
        # an extractor in train mode is put back in train mode after each extraction, with its classifier's dropout on
        self.eval()

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4 and x.shape[1] == 3:
            x = x.mean(dim=1, keepdim=True)
        if x.dim() == 4 and tuple(x.shape[-2:]) != (28, 28):
            x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(self._prepare(x))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.classify(self._prepare(x))


@functools.cache
def mnist_features() -> MNISTFeatures:
    """The published ``mnistnet.mnist5k`` (downloaded once and sha256-checked like any model)."""
    from .._factory import load

    return MNISTFeatures(load("mnistnet.mnist5k"))


def fid_mnist(**options):
    """FID in mnistnet.mnist5k's feature space (registered as ``fid-mnist``)."""
    from ..metrics.features import FID

    return FID(mnist_features(), name="fid-mnist", **options)


def kid_mnist(**options):
    """KID in mnistnet.mnist5k's feature space; subsets of 250 so the 500 held-out digits suffice."""
    from ..metrics.features import KID

    return KID(mnist_features(), name="kid-mnist", **{"subset_size": 250, **options})


def inception_score_mnist(**options):
    """The Inception Score with mnistnet.mnist5k's class probabilities (10 classes: at most 10)."""
    from ..metrics.features import InceptionScore

    return InceptionScore(mnist_features(), name="is-mnist", **options)


class DigitAgreement(Metric):
    """How often ``mnistnet.mnist5k`` reads a conditional sample as the digit its condition names.

    ``zoo eval`` feeds a text-to-image model's images, one per caption of a captioned dataset
    (``fake``), with the label of the digit each caption describes (``label``); chance is 0.1.

    Example:
        >>> zoo.evaluate("stackgan.mnist", ["digit-agreement"], "mnist5k-captions")
        [{'name': 'digit-agreement', 'value': 0.9, 'unit': 'fraction', ...}]
    """

    name = "digit-agreement"
    inputs = ("fake", "label")
    higher_is_better = True
    unit = "fraction"
    protocol = "argmax of mnistnet.mnist5k on each sample (28x28 grey) == the label of its caption"

    def __init__(self) -> None:
        self.features = mnist_features()
        super().__init__()

    def reset(self) -> None:
        self.agree = 0
        self.count = 0

    def update(self, fake: torch.Tensor, label: torch.Tensor) -> None:
        with torch.inference_mode():
            read = self.features.logits(fake.float().to(self.features.classifier.device)).argmax(1).cpu()
        self.agree += int((read == torch.as_tensor(label).view(-1).cpu()).sum())
        self.count += len(read)

    def compute(self) -> dict[str, float]:
        if self.count == 0:
            raise ZooError("digit-agreement has seen no samples; call update(fake=..., label=...) first.")
        return {self.name: self.agree / self.count}


def train(epochs: int = 14, seed: int = 1, batch_size: int = 64, log=print) -> MNISTNet:
    """The reference's recipe on the mnist5k training split."""
    from ..data import load_dataset

    torch.manual_seed(seed)
    train_set = load_dataset("mnist5k", split="train")
    images, labels = train_set.tensors(), train_set.labels
    model = MNISTNet(MNISTNetConfig())
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    order = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        model.train()
        for index in torch.randperm(len(images), generator=order).split(batch_size):
            optimizer.zero_grad()
            loss = F.nll_loss(model(images[index]), labels[index])
            loss.backward()
            optimizer.step()
        scheduler.step()
        log(f"epoch {epoch}: test accuracy {accuracy(model.eval())['value']:.4f}")
    return model.eval()


def accuracy(model: MNISTNet, split: str = "test") -> dict:
    """The ``accuracy`` metric on a mnist5k split, as ``zoo eval MODEL --metric accuracy`` computes it."""
    from ..evaluation import evaluate

    (result,) = evaluate(model, "accuracy", "mnist5k", split=split)
    return result


def main(argv: list[str] | None = None) -> None:
    from ..publish import publish_model

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="Hub-layout model folder to write")
    parser.add_argument("--register", metavar="NAME", help="add the model to registry.json under NAME")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    model = train(args.epochs, args.seed)
    wall = time.perf_counter() - started
    test_accuracy, train_accuracy = accuracy(model, "test"), accuracy(model, "train")
    print(f"test accuracy {test_accuracy['value']:.4f}")
    entry = {
        "architecture": "mnistnet",
        "plugin": "zoo-core",
        "tasks": ["classification"],
        "source": "zoo",
        "description": "Digit classifier of pytorch/examples mnist/main.py trained on mnist5k; "
        "its 128-d fc1 features define FID-MNIST and KID-MNIST, its logits the MNIST Inception Score.",
        "config": model.config.to_dict(),
        "num_params": model.num_parameters(),
        "dataset": {"name": "mnist5k", "split": "train: 4,500 digits; test: 500 (the last 50 of each class)"},
        "metrics": [test_accuracy, train_accuracy],
        "paper": {
            "title": "Gradient-based learning applied to document recognition (LeNet family; the pytorch/examples "
            "variant)",
            "authors": "Yann LeCun, Léon Bottou, Yoshua Bengio, Patrick Haffner",
            "year": 1998,
            "url": "https://doi.org/10.1109/5.726791",
            "reference_code": "https://github.com/pytorch/examples/blob/main/mnist/main.py",
        },
        "license": "mit",
        "made_by": {
            "command": "python -m zoo_core.builtin.mnistnet " + shlex.join(argv if argv is not None else sys.argv[1:]),
            "seed": args.seed,
            "wall_time_s": round(wall, 1),
            "notes": f"{args.epochs} epochs, Adadelta lr 1.0, StepLR gamma 0.7, batch 64, as the reference.",
        },
        "tags": ["mnist", "feature-extractor"],
    }
    body = (
        "## Use as a feature extractor\n\n"
        "`zoo eval MODEL --metric fid-mnist --dataset mnist5k` compares a model's samples with the held-out "
        "digits in the space of this network's 128-d fc1 activations (28x28 grey inputs in [0, 1]; other sizes "
        "are resized bilinearly, RGB is averaged to grey). FID-MNIST values are only comparable with each other, "
        "not with Inception FID."
    )
    publish_model(
        args.register or "mnistnet.mnist5k", model, args.out, entry, body, repo_id=REPO_ID, register=bool(args.register)
    )


if __name__ == "__main__":
    main()
