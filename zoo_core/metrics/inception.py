"""The Inception-v3 network of FID (TF "2015-12-05" graph), as pytorch-fid runs it.

Module structure and state-dict keys are those of torchvision's ``Inception3`` with 1008
classes and no auxiliary head, patched the way the TF graph differs (pytorch-fid's
``fid_inception_v3``): the A, C and first E blocks average-pool without counting the zero
padding, the last E block max-pools. So the keys equal those of pytorch-fid's checkpoint
``pt_inception-2015-12-05-6726825d.pth`` and of torch-fidelity's
``weights-inception-2015-12-05-6726825d.pth`` (whose only differences, ``MaxPool_1``,
``MaxPool_2`` and ``AvgPool``, hold no weights).

Preprocessing, protocol ``"legacy_pytorch"`` (pytorch-fid's; clean-fid's name for it):
images in [0, 1] → bilinear resize to 299x299 (``align_corners=False``, no antialiasing) →
``2x - 1``. Grey images are repeated to three channels. ``features`` are the 2,048-d pool3
activations (or the 64/192/768-d earlier blocks, spatially averaged, as pytorch-fid's
``--dims``); ``logits`` are the 1,008 class logits without the fc bias, as the reference
Inception Score code and torch-fidelity's ``logits_unbiased``.

The weights are not downloaded: convert the checkpoint once,

    zoo convert fid-inception pt_inception-2015-12-05-6726825d.pth -o ~/fid-inception
    export ZOO_FID_INCEPTION=~/fid-inception

and ``load_fid_inception()`` reads the safetensors (or pass ``weights=`` a folder, a
``.safetensors`` file or a Hub repository ``org/name`` in Hub layout).

Example:
    >>> net = load_fid_inception()
    >>> net.features(images).shape  # images (N, 3, H, W) in [0, 1]
    torch.Size([N, 2048])
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torchvision.models.inception as tv
from torch import nn

from .._errors import ZooError
from ..modeling import ImageClassifier, ModelConfig, ZooModel

__all__ = [
    "ENV_VAR",
    "FIDInceptionConfig",
    "FIDInceptionV3",
    "convert_pytorch_fid",
    "load_fid_inception",
]

ENV_VAR = "ZOO_FID_INCEPTION"
PROTOCOL = "legacy_pytorch"
CHECKPOINT = "pt_inception-2015-12-05-6726825d.pth"
_DIMS = (64, 192, 768, 2048)


def _global_pool(x: torch.Tensor) -> torch.Tensor:
    return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TF's average pool ignores the zero padding in the mean.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDBlockA(tv.InceptionA):
    """torchvision's InceptionA with TF's average pool (pytorch-fid's ``FIDInceptionA``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_tf_avg_pool(x))], 1)


class FIDBlockC(tv.InceptionC):
    """torchvision's InceptionC with TF's average pool (pytorch-fid's ``FIDInceptionC``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            b7d = layer(b7d)
        b7d = self.branch7x7dbl_5(b7d)
        return torch.cat([self.branch1x1(x), b7, b7d, self.branch_pool(_tf_avg_pool(x))], 1)


class FIDBlockE(tv.InceptionE):
    """torchvision's InceptionE; ``max_pool=False``: TF's average pool (Mixed_7b), ``True``: max pool (Mixed_7c)."""

    def __init__(self, in_channels: int, max_pool: bool) -> None:
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3d = torch.cat([self.branch3x3dbl_3a(b3d), self.branch3x3dbl_3b(b3d)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _tf_avg_pool(x)
        return torch.cat([self.branch1x1(x), b3, b3d, self.branch_pool(pooled)], 1)


@dataclass
class FIDInceptionConfig(ModelConfig):
    num_classes: int = 1008
    #: which activations ``features`` returns: 64, 192, 768 or 2048 (pool3, the standard)
    dims: int = 2048


class FIDInceptionV3(ImageClassifier, ZooModel):
    """FID's Inception-v3: ``features`` (pool3, 2,048-d), ``logits`` (1,008 classes, bias-free), ``classify``.

    ``forward(x)`` returns ``features(x)``, so the module can be handed to any library that
    expects a feature network (e.g. ``torchmetrics``' ``feature=``).

    Example:
        >>> net = FIDInceptionV3.from_pretrained("~/fid-inception")
        >>> net.features(torch.rand(4, 3, 64, 64)).shape
        torch.Size([4, 2048])
    """

    architecture = "fid-inception"
    config_class = FIDInceptionConfig
    input_size = 299

    def __init__(self, config: FIDInceptionConfig) -> None:
        super().__init__(config)
        if config.dims not in _DIMS:
            raise ZooError(f"FID Inception features have {' / '.join(map(str, _DIMS))} dims, not {config.dims}.")
        conv = tv.BasicConv2d
        block_a, block_c, block_e = FIDBlockA, FIDBlockC, FIDBlockE
        self.Conv2d_1a_3x3 = conv(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = conv(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = conv(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = conv(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = conv(80, 192, kernel_size=3)
        self.Mixed_5b = block_a(192, pool_features=32)
        self.Mixed_5c = block_a(256, pool_features=64)
        self.Mixed_5d = block_a(288, pool_features=64)
        self.Mixed_6a = tv.InceptionB(288)
        self.Mixed_6b = block_c(768, channels_7x7=128)
        self.Mixed_6c = block_c(768, channels_7x7=160)
        self.Mixed_6d = block_c(768, channels_7x7=160)
        self.Mixed_6e = block_c(768, channels_7x7=192)
        self.Mixed_7a = tv.InceptionD(768)
        self.Mixed_7b = block_e(1280, max_pool=False)
        self.Mixed_7c = block_e(2048, max_pool=True)
        self.fc = nn.Linear(2048, config.num_classes)

    @property
    def dims(self) -> int:
        return self.config.dims

    @property
    def protocol(self) -> str:
        """``legacy_pytorch`` (pytorch-fid's preprocessing, pool3); the dims are named when not 2048."""
        return PROTOCOL if self.dims == 2048 else f"{PROTOCOL}, {self.dims}-d features"

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """``legacy_pytorch``: [0, 1] → bilinear 299x299 (align_corners False) → [-1, 1]; grey → RGB."""
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ZooError(f"The FID Inception takes (N, 3, H, W) or (N, 1, H, W) images, not {tuple(x.shape)}.")
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        return 2 * x - 1

    def _pool3(self, x: torch.Tensor, dims: int = 2048) -> torch.Tensor:
        x = self.preprocess(x)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        if dims == 64:
            return _global_pool(x)
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), kernel_size=3, stride=2)
        if dims == 192:
            return _global_pool(x)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a):
            x = block(x)
        for block in (self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = block(x)
        if dims == 768:
            return _global_pool(x)
        return _global_pool(self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x))))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, dims)`` activations (pool3 by default) of images in [0, 1]."""
        return self._pool3(x, self.dims)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 1008)`` class logits without the fc bias (the Inception Score's, as the reference code)."""
        return self._pool3(x) @ self.fc.weight.T

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 1008)`` class logits of the network's classifier (with its bias)."""
        return self.fc(self._pool3(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


# -- conversion ------------------------------------------------------------------------------
_PYTORCH_FID_MODULE_LAYOUT = "blocks."


def convert_pytorch_fid(state_dict: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, torch.Tensor]:
    """Map pytorch-fid's (or torch-fidelity's) Inception checkpoint onto ``FIDInceptionV3``'s keys.

    Both checkpoints already use torchvision's names (``Conv2d_1a_3x3.conv.weight``,
    ``Mixed_7c.branch_pool.bn.running_var``, ``fc.weight`` ...), so the mapping is the
    identity; a ``{"state_dict": ...}`` wrapper and a ``module.`` prefix are removed, and the
    BatchNorm ``num_batches_tracked`` counters, absent from checkpoints saved before PyTorch
    0.4.1, are filled with 0 (they play no role in eval mode). Weights become float32.

    Example:
        >>> state = convert_pytorch_fid(torch.load("pt_inception-2015-12-05-6726825d.pth"))
        >>> FIDInceptionV3.from_weights({}, state)
    """
    if "state_dict" in state_dict and isinstance(state_dict["state_dict"], dict):
        state_dict = state_dict["state_dict"]
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise ZooError(f"The checkpoint entry {key!r} is not a tensor; give the Inception state dict itself.")
        key = key.removeprefix("module.")
        if key.startswith(_PYTORCH_FID_MODULE_LAYOUT):
            raise ZooError(
                "This is the state dict of pytorch-fid's InceptionV3 wrapper, which has dropped the classifier; "
                f"convert the checkpoint file {CHECKPOINT} itself."
            )
        out[key] = value.float() if value.is_floating_point() else value
    for key in list(out):
        if key.endswith(".running_mean"):
            counter = key.removesuffix("running_mean") + "num_batches_tracked"
            out.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return out


# -- loading ---------------------------------------------------------------------------------
def _missing_weights_error(detail: str) -> ZooError:
    return ZooError(
        f"{detail}: convert the pytorch-fid checkpoint once with "
        f"`zoo convert fid-inception {CHECKPOINT} -o DIR` and point {ENV_VAR} at DIR (or pass weights=DIR)."
    )


@functools.lru_cache(maxsize=4)
def _load(source: str, dims: int, device: str) -> FIDInceptionV3:
    path = Path(source).expanduser()
    if path.is_dir():
        model = FIDInceptionV3.from_pretrained(path, device=device)
    elif path.is_file():
        model = FIDInceptionV3.from_weights(FIDInceptionConfig(), path, device=device)
    elif source.count("/") == 1 and not source.startswith((".", "/", "~")) and path.suffix != ".safetensors":
        model = FIDInceptionV3.from_pretrained(source, device=device)  # a Hub repository org/name
    else:
        raise _missing_weights_error(f"No FID Inception weights at {source}")
    model.config.dims = dims
    return model.eval().requires_grad_(False)


def load_fid_inception(
    weights: str | os.PathLike[str] | None = None, *, dims: int = 2048, device: str | torch.device = "cpu"
) -> FIDInceptionV3:
    """The FID Inception-v3 with converted weights, in eval mode (shared between calls).

    ``weights``: a Hub-layout folder (``config.json`` + ``model.safetensors``), a
    ``.safetensors`` file or a Hub repository ``org/name``; default ``$ZOO_FID_INCEPTION``.

    Example:
        >>> net = load_fid_inception("~/fid-inception")
        >>> net.protocol
        'legacy_pytorch'
    """
    source = os.fspath(weights) if weights is not None else os.environ.get(ENV_VAR, "")
    if not source:
        raise _missing_weights_error(f"FID, KID and IS need the FID Inception weights and {ENV_VAR} is not set")
    if dims not in _DIMS:
        raise ZooError(f"FID Inception features have {' / '.join(map(str, _DIMS))} dims, not {dims}.")
    return _load(source, dims, str(torch.device(device)))
