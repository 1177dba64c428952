"""Weight initialisation of pix2pix / CycleGAN (``init_weights`` in junyanz's ``models/networks.py``).

Every convolution (``Conv*``, ``ConvTranspose*``) and ``Linear`` weight is drawn by ``init_type``:

- ``"normal"`` (the default of both papers): N(0, ``init_gain``), ``init_gain`` = 0.02;
- ``"xavier"``: ``xavier_normal_`` with gain ``init_gain``;
- ``"kaiming"``: ``kaiming_normal_(a=0, mode="fan_in")`` (``init_gain`` is ignored, as in the reference);
- ``"orthogonal"``: ``orthogonal_`` with gain ``init_gain``;

and its bias (when it has one) is set to 0. ``BatchNorm2d`` weights are drawn from
N(1, ``init_gain``) whatever ``init_type`` is, and their biases set to 0. Modules are visited
with ``net.apply``, the reference's order, so the same seed gives the same weights.

Tensors on the meta device are skipped: a model built there is about to receive its weights.

Example:
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    >>> net = init_weights(net, "normal", 0.02)
    >>> float(net[0].bias.abs().max())
    0.0
"""

from __future__ import annotations

from torch import nn

from .._errors import ZooError

__all__ = ["INIT_TYPES", "dcgan_weights_init", "init_weights"]

#: the names ``init_weights`` accepts
INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal")

_WEIGHTED = (nn.modules.conv._ConvNd, nn.Linear)


def init_weights(net: nn.Module, init_type: str = "normal", init_gain: float = 0.02) -> nn.Module:
    """Initialise ``net`` in place as the reference does, and return it.

    Example:
        >>> from zoo_core.layers import NLayerDiscriminator
        >>> d = init_weights(NLayerDiscriminator(3), "normal", 0.02)
        >>> round(float(d.model[0].weight.std()), 2)
        0.02
    """
    if init_type not in INIT_TYPES:
        raise ZooError(f"Unknown init_type {init_type!r}; choose one of {', '.join(INIT_TYPES)}.")

    def init_module(m: nn.Module) -> None:
        weight = getattr(m, "weight", None)
        if not isinstance(weight, nn.Parameter) or weight.is_meta:
            return
        bias = getattr(m, "bias", None)
        if isinstance(m, _WEIGHTED):
            if init_type == "normal":
                nn.init.normal_(weight, 0.0, init_gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(weight, gain=init_gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(weight, gain=init_gain)
            if bias is not None:
                nn.init.constant_(bias, 0.0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(weight, 1.0, init_gain)
            nn.init.constant_(bias, 0.0)

    net.apply(init_module)
    return net


def dcgan_weights_init(m: nn.Module) -> None:
    """``weights_init`` of pytorch/examples' DCGAN and of StackGAN (``miscc/utils.py``), for ``net.apply``.

    ``Conv*`` weights N(0, 0.02) (their biases, where a layer has one, keep PyTorch's init);
    ``Linear`` weights N(0, 0.02) and biases 0 (StackGAN's addition; DCGAN has no Linear layer);
    ``BatchNorm*`` weights N(1, 0.02) and biases 0. Unlike ``init_weights``, convolution biases
    are not zeroed, as in both references.

    Example:
        >>> nn.Sequential(nn.Conv2d(3, 8, 4, bias=False), nn.BatchNorm2d(8)).apply(dcgan_weights_init)
    """
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
    elif classname.find("Linear") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
