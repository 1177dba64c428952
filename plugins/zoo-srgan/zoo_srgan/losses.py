"""SRGAN's content loss: MSE between VGG19 ``features.35`` activations, as Lornatang/SRGAN-PyTorch's ``ContentLoss``.

``features.35`` is the ReLU after conv5_4, the last convolution of torchvision's ``vgg19``
(the paper's VGG54). Both images are normalised with ImageNet's mean (0.485, 0.456, 0.406) and
std (0.229, 0.224, 0.225) first; the network is frozen and in eval mode.

The ImageNet weights cannot be downloaded here, and a perceptual loss on a random network is
no perceptual loss, so nothing falls back silently: the loss is built from a file the user
gives, either safetensors holding torchvision's ``vgg19`` ``features.N.weight`` /
``features.N.bias`` tensors (``classifier.*`` may be there and is ignored), or torchvision's
own checkpoint ``vgg19-dcbb9e9d.pth``, read with ``torch.load(weights_only=True)``.

Example:
    >>> loss = VGGContentLoss.from_file("vgg19.safetensors")
    >>> loss(sr, hr)  # a 0-d tensor; gradients flow into sr only
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError

__all__ = ["FEATURE_LAYER", "IMAGENET_MEAN", "IMAGENET_STD", "VGG19_CONVS", "VGGContentLoss", "vgg19_features"]

#: torchvision's vgg19 ``features`` (configuration "E"): widths, with "M" for a 2x2 max-pool
_VGG19 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
#: the layer whose output is compared: the ReLU after conv5_4
FEATURE_LAYER = 35
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MISSING_WEIGHTS = (
    "The SRGAN stage's VGG19 perceptual loss needs torchvision's ImageNet vgg19 weights, which cannot be "
    "downloaded here; pass --train-config vgg_weights=PATH to a safetensors file of its features.* tensors "
    "(or to torchvision's vgg19-dcbb9e9d.pth)."
)


def vgg19_features(last: int = FEATURE_LAYER) -> nn.Sequential:
    """torchvision's ``vgg19().features`` up to and including module ``last`` (same indices, same keys).

    Example:
        >>> list(vgg19_features().state_dict())[-2:]  # torchvision's features.34.*, conv5_4
        ['34.weight', '34.bias']
    """
    layers: list[nn.Module] = []
    channels = 3
    for width in _VGG19:
        if width == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(width), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = int(width)
    return nn.Sequential(*layers[: last + 1])


#: indices of the convolutions in ``features`` (0, 2, 5, 7, 10 ... 34)
VGG19_CONVS = tuple(i for i, m in enumerate(vgg19_features()) if isinstance(m, nn.Conv2d))


def _features_state(state: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """The ``features.N.*`` tensors the loss needs, from a torchvision vgg19 state dict (or its ``features``)."""
    if state and all(k.split(".", 1)[0].isdigit() for k in state):  # a saved `features` module
        state = {f"features.{k}": v for k, v in state.items()}
    wanted = [f"features.{i}.{p}" for i in VGG19_CONVS for p in ("weight", "bias")]
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ZooError(
            f"{source} is not torchvision's vgg19 (it has no {missing[0]!r}); give the weights of "
            "torchvision.models.vgg19 (features.N.weight / features.N.bias)."
        )
    return {k.removeprefix("features."): state[k] for k in wanted}


class VGGContentLoss(nn.Module):
    """MSE between the ``features.35`` activations of ImageNet-normalised SR and HR images.

    Example:
        >>> loss = VGGContentLoss(weights)  # a state dict in torchvision's vgg19 layout
        >>> loss(torch.rand(2, 3, 96, 96), torch.rand(2, 3, 96, 96)).shape
        torch.Size([])
    """

    def __init__(self, state_dict: dict[str, torch.Tensor], source: str = "the VGG19 weights") -> None:
        super().__init__()
        self.features = vgg19_features()
        try:
            self.features.load_state_dict(_features_state(state_dict, source), strict=True)
        except RuntimeError as exc:  # shapes that are not vgg19's
            first = str(exc).strip().splitlines()[-1].strip()
            raise ZooError(f"{source} does not hold torchvision's vgg19 weights: {first}") from exc
        self.features.requires_grad_(False)
        self.features.eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None) -> VGGContentLoss:
        """Build from a safetensors file (or torchvision's ``.pth``); no path: fail in one sentence."""
        if not path:
            raise ZooError(MISSING_WEIGHTS)
        path = Path(path).expanduser()
        if not path.is_file():
            raise ZooError(
                f"The VGG19 weights file {path} does not exist; give a safetensors file of torchvision's vgg19 "
                "features.* tensors (or torchvision's vgg19-dcbb9e9d.pth)."
            )
        from zoo_core.checkpoints import read_checkpoint

        state = read_checkpoint(path)
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise ZooError(f"{path} is not a state dict of tensors; give torchvision's vgg19 weights.")
        return cls(state, source=str(path))

    def train(self, mode: bool = True) -> VGGContentLoss:
        super().train(mode)
        self.features.eval()  # frozen: always the inference network
        return self

    def extract(self, images: torch.Tensor) -> torch.Tensor:
        """``features.35`` of images in [0, 1] (3 channels; grey is copied to three)."""
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        return self.features((images - self.mean.to(images.dtype)) / self.std.to(images.dtype))

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self.extract(hr)
        return F.mse_loss(self.extract(sr).float(), target.float())
