"""CIE Lab for the reference's colorization model, in torch: ``skimage.color.rgb2lab`` / ``lab2rgb`` (D65, 2°).

junyanz's ``--model colorization`` is pix2pix trained from the L channel (``input_nc`` 1) to the
a, b channels (``output_nc`` 2) of CIE Lab, scaled to [-1, 1] as ``L / 50 - 1`` and ``ab / 110``
(``data/colorization_dataset.py``), and turned back to RGB with ``skimage.color.lab2rgb``
(``models/colorization_model.py``). These functions compute the same conversions on tensors
(float64 inside), so a model runs on any device without NumPy round trips:

- sRGB in [0, 1] to linear light (the sRGB curve), to XYZ (the sRGB / D65 matrix), to Lab
  relative to the D65 white ``(0.95047, 1, 1.08883)`` with the CIE ``f(t)`` (cube root above
  ``0.008856``, ``7.787 t + 16/116`` below);
- back: ``f`` inverted (cube above ``0.2068966``), negative ``z`` clipped to 0 as skimage does,
  the inverse matrix, the sRGB curve, clipped to [0, 1].

Example:
    >>> lab = rgb_to_lab(torch.rand(1, 3, 8, 8))
    >>> torch.allclose(lab_to_rgb(lab), rgb, atol=1e-6)
    True
"""

from __future__ import annotations

import torch

__all__ = ["from_network", "grey_to_l", "lab_to_rgb", "rgb_to_lab", "to_network_input", "to_network_target"]

_RGB_TO_XYZ = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_WHITE_D65 = (0.95047, 1.0, 1.08883)


def _matrix(rows: tuple[tuple[float, ...], ...], like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64, device=like.device)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` sRGB in [0, 1] to ``(N, 3, H, W)`` CIE Lab (L in [0, 100]), as ``skimage.color.rgb2lab``.

    Example:
        >>> rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten().round()
        tensor([100., 0., 0.], dtype=torch.float64)
    """
    x = rgb.double()
    linear = torch.where(x > 0.04045, ((x + 0.055) / 1.055) ** 2.4, x / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", _matrix(_RGB_TO_XYZ, x), linear)
    xyz = xyz / torch.tensor(_WHITE_D65, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp(min=0) ** (1.0 / 3.0), 7.787 * xyz + 16.0 / 116.0)
    fx, fy, fz = f.unbind(1)
    lab = torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], 1)
    return lab.to(rgb.dtype if rgb.is_floating_point() else torch.float32)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` CIE Lab to sRGB in [0, 1], as ``skimage.color.lab2rgb`` (out-of-gamut colours clipped).

    Example:
        >>> lab_to_rgb(torch.tensor([[[[50.0]], [[0.0]], [[0.0]]]])).flatten()  # mid grey
        tensor([0.4663, 0.4663, 0.4663])
    """
    x = lab.double()
    L, a, b = x.unbind(1)
    fy = (L + 16.0) / 116.0
    f = torch.stack([a / 500.0 + fy, fy, (fy - b / 200.0).clamp(min=0)], 1)
    xyz = torch.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / 7.787)
    xyz = xyz * torch.tensor(_WHITE_D65, dtype=torch.float64, device=x.device).view(1, 3, 1, 1)
    linear = torch.einsum("ij,njhw->nihw", torch.linalg.inv(_matrix(_RGB_TO_XYZ, x)), xyz)
    rgb = torch.where(linear > 0.0031308, 1.055 * linear.clamp(min=0) ** (1.0 / 2.4) - 0.055, 12.92 * linear)
    return rgb.clamp(0, 1).to(lab.dtype)


def grey_to_l(grey: torch.Tensor) -> torch.Tensor:
    """The L channel (``(N, 1, H, W)``, in [0, 100]) of grey images in [0, 1] (R = G = B = the grey level).

    Example:
        >>> grey_to_l(torch.full((1, 1, 1, 1), 0.5)).item()  # doctest: +ELLIPSIS
        53.38...
    """
    return rgb_to_lab(grey.expand(-1, 3, -1, -1))[:, :1]


def to_network_input(image: torch.Tensor, color_space: str) -> torch.Tensor:
    """Images in [0, 1] (channels already the model's) as a colorization network takes them: ``rgb``:
    ``2 x - 1``; ``lab``: the L channel of the grey image, ``L / 50 - 1``.

    Example:
        >>> to_network_input(torch.ones(1, 1, 2, 2), "lab").unique()
        tensor([1.])
    """
    if color_space == "lab":
        return (grey_to_l(image) / 50.0 - 1.0).to(image.dtype)
    return image * 2 - 1


def to_network_target(target: torch.Tensor, color_space: str) -> torch.Tensor:
    """Target images in [0, 1] as the network should produce them: ``rgb``: ``2 y - 1``; ``lab``: the a, b
    channels over 110 (``target`` RGB)."""
    if color_space == "lab":
        return (rgb_to_lab(target)[:, 1:] / 110.0).to(target.dtype)
    return target * 2 - 1


def from_network(a: torch.Tensor, out: torch.Tensor, color_space: str) -> torch.Tensor:
    """The network's output ``out`` for network input ``a`` as images in [0, 1] (``lab``: L from ``a``, a, b from
    ``out``)."""
    if color_space == "lab":
        return lab_to_rgb(torch.cat([(a.float() + 1.0) * 50.0, out.float() * 110.0], 1))
    return ((out.float() + 1) / 2).clamp(0, 1)
