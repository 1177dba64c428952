"""mnistnet.mnist5k: the pytorch/examples classifier, published with its accuracy; FID-MNIST's features."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import zoo_core as zoo
from zoo_core.builtin.mnistnet import MNISTNet, MNISTNetConfig, accuracy
from zoo_core.data import load_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = REPO_ROOT / "hub" / "zoo" / "mnistnet-mnist5k"


@pytest.fixture(scope="module")
def classifier() -> MNISTNet:
    return zoo.ZooModel.from_pretrained(PUBLISHED)


def test_reference_layout() -> None:
    model = MNISTNet(MNISTNetConfig())
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == {
        "conv1.weight": (32, 1, 3, 3),
        "conv1.bias": (32,),
        "conv2.weight": (64, 32, 3, 3),
        "conv2.bias": (64,),
        "fc1.weight": (128, 9216),
        "fc1.bias": (128,),
        "fc2.weight": (10, 128),
        "fc2.bias": (10,),
    }


def test_published_accuracy_is_what_the_card_says(classifier: MNISTNet) -> None:
    recorded = {m["split"]: m["value"] for m in zoo.info("mnistnet.mnist5k").metrics if m["name"] == "accuracy"}
    # computed on this CPU, recorded on another: a digit on the edge between two classes may go either way (1 of 500)
    assert accuracy(classifier, "test")["value"] == pytest.approx(recorded["test"], abs=1 / 500 + 1e-9)
    assert recorded["test"] > 0.95  # far above chance: the features mean something


def test_features_and_logits(classifier: MNISTNet) -> None:
    digits = load_dataset("mnist5k", split="test").tensors()[:16]
    with torch.inference_mode():
        features, logits = classifier.features(digits), classifier.classify(digits)
    assert features.shape == (16, 128) and (features >= 0).all()  # after the ReLU
    assert torch.allclose(torch.log_softmax(logits, 1), classifier(digits), atol=1e-5)  # eval: no dropout
    with pytest.raises(zoo.ZooError, match="1 channel"):
        classifier.features(torch.rand(2, 3, 28, 28))


def test_the_fid_mnist_extractor_stays_in_eval_mode() -> None:
    """Feature extraction leaves the classifier as it found it: eval mode, dropout off, the same features twice."""
    from zoo_core.builtin.mnistnet import MNISTFeatures
    from zoo_core.metrics.features import extract_features

    torch.manual_seed(0)
    extractor = MNISTFeatures(MNISTNet(MNISTNetConfig()))
    x = torch.rand(8, 1, 28, 28)
    first = extract_features(extractor, x)
    assert not extractor.training and not extractor.classifier.training
    with torch.no_grad():
        torch.testing.assert_close(extractor.logits(x), extractor.logits(x), rtol=0, atol=0)
    torch.testing.assert_close(extract_features(extractor, x), first, rtol=0, atol=0)
