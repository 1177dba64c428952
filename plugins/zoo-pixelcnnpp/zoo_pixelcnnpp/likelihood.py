"""The discretised logistic mixture of PixelCNN++: its log-likelihood and drawing one pixel from it.

Pixels live on [-1, 1] in 256 levels (bins of width 2/255). For each pixel the network gives
``nr_mix`` mixture logits and, per channel, ``nr_mix`` means and log-scales; RGB models add
three coupling coefficients per component (through tanh) so that green's mean moves with red
and blue's with red and green (Salimans et al. 2017, section 2.2). The parameter layout is
openai/pixel-cnn's: ``[logits | channel 0: means, log_scales, coeffs | channel 1: ... ]``
(grey models: means and log-scales only, ``3 * nr_mix`` outputs; RGB ``10 * nr_mix``).

The likelihood keeps every edge case of the reference (``discretized_mix_logistic_loss``):

- x < -0.999 (level 0): log CDF at the bin's upper edge;
- x > 0.999 (level 255): log of 1 - CDF at the lower edge;
- otherwise log(CDF(x + 1/255) - CDF(x - 1/255)), unless that is below 1e-5, where the density
  at the bin centre times the bin width (``log_pdf_mid - log(127.5)``) is used instead;
- log-scales are clamped at -7.

Sampling follows ``sample_from_discretized_mix_logistic``: a Gumbel-max draw of the component,
a logistic draw with uniform noise in (1e-5, 1 - 1e-5), clamped to [-1, 1], coupled through the
coefficients. One deviation: each channel is rounded to the 256 levels the model was trained on
before it conditions the next channel and the next pixels (the reference keeps the continuous
value). That makes the result independent of float rounding in the network, which is what lets
the cached sampler reproduce the naive one sample for sample.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["draw_noise", "mixture_log_prob", "num_outputs", "quantize", "sample_pixel"]

_LOG_HALF_BINS = math.log(127.5)


def num_outputs(channels: int, nr_mix: int) -> int:
    """Network outputs per pixel: ``3 * nr_mix`` for grey, ``10 * nr_mix`` for RGB (as the reference)."""
    return (3 if channels == 1 else 10) * nr_mix


def _unpack(
    params: torch.Tensor, channels: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``(logits, means, log_scales, coeffs)`` from params shaped ``(B, outputs, ...)``; ``(B, C, M, ...)`` each."""
    per_channel = 2 if channels == 1 else 3
    nr_mix = params.shape[1] // (1 + channels * per_channel)
    logits = params[:, :nr_mix]
    rest = params[:, nr_mix:].reshape(params.shape[0], channels, per_channel * nr_mix, *params.shape[2:])
    means = rest[:, :, :nr_mix]
    log_scales = rest[:, :, nr_mix : 2 * nr_mix].clamp(min=-7.0)
    coeffs = torch.tanh(rest[:, :, 2 * nr_mix :]) if channels == 3 else None
    return logits, means, log_scales, coeffs


def mixture_log_prob(x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Log-probability in nats of each pixel of ``x`` (``(B, C, H, W)`` on [-1, 1]) under ``params``: ``(B, H, W)``.

    Example:
        >>> params = model(x)  # (B, 10 * nr_mix, H, W)
        >>> nats = -mixture_log_prob(x, params).sum((1, 2))  # per image
    """
    channels = x.shape[1]
    logits, means, log_scales, coeffs = _unpack(params, channels)
    x = x.unsqueeze(2)  # (B, C, 1, H, W) against (B, C, M, H, W)
    if coeffs is not None:  # RGB: green and blue means move with the channels before them
        m1 = means[:, 1] + coeffs[:, 0] * x[:, 0]
        m2 = means[:, 2] + coeffs[:, 1] * x[:, 0] + coeffs[:, 2] * x[:, 1]
        means = torch.stack([means[:, 0], m1, m2], dim=1)
    centered = x - means
    inv_stdv = torch.exp(-log_scales)
    plus_in = inv_stdv * (centered + 1.0 / 255.0)
    min_in = inv_stdv * (centered - 1.0 / 255.0)
    cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)
    log_cdf_plus = plus_in - F.softplus(plus_in)  # level 0
    log_one_minus_cdf_min = -F.softplus(min_in)  # level 255
    mid_in = inv_stdv * centered
    log_pdf_mid = mid_in - log_scales - 2.0 * F.softplus(mid_in)
    inner = torch.where(cdf_delta > 1e-5, torch.log(cdf_delta.clamp(min=1e-12)), log_pdf_mid - _LOG_HALF_BINS)
    inner = torch.where(x > 0.999, log_one_minus_cdf_min, inner)
    log_probs = torch.where(x < -0.999, log_cdf_plus, inner)
    log_probs = log_probs.sum(dim=1) + F.log_softmax(logits, dim=1)  # (B, M, H, W)
    return torch.logsumexp(log_probs, dim=1)


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round values on [-1, 1] to the nearest of the 256 levels ``2k / 255 - 1``."""
    return torch.round((x + 1.0) * 127.5) / 127.5 - 1.0


def draw_noise(
    n: int, channels: int, nr_mix: int, height: int, width: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The uniform noise of a whole sampling run, in (1e-5, 1 - 1e-5): ``(mix (n, H, W, M), logistic (n, H, W, C))``.

    Drawn once, up front, so that every sampler consumes exactly the same numbers per pixel.
    """
    mix = torch.rand(n, height, width, nr_mix, generator=generator, dtype=torch.float64)
    logistic = torch.rand(n, height, width, channels, generator=generator, dtype=torch.float64)
    return mix * (1 - 2e-5) + 1e-5, logistic * (1 - 2e-5) + 1e-5


def sample_pixel(params: torch.Tensor, mix_noise: torch.Tensor, logistic_noise: torch.Tensor) -> torch.Tensor:
    """Draw one pixel per row of ``params`` (``(B, outputs)``): ``(B, C)`` on the 256 levels of [-1, 1].

    ``mix_noise`` ``(B, M)`` picks the component (Gumbel-max); ``logistic_noise`` ``(B, C)``
    draws from it.
    """
    channels = logistic_noise.shape[1]
    logits, means, log_scales, coeffs = _unpack(params, channels)
    dtype = params.dtype
    gumbel = logits - torch.log(-torch.log(mix_noise.to(dtype)))
    pick = gumbel.argmax(dim=1)  # (B,)
    index = pick.view(-1, 1, 1).expand(-1, channels, 1)

    def chosen(t: torch.Tensor) -> torch.Tensor:
        return t.gather(2, index).squeeze(2)  # (B, C)

    u = logistic_noise.to(dtype)
    x = chosen(means) + torch.exp(chosen(log_scales)) * (torch.log(u) - torch.log1p(-u))
    x0 = quantize(x[:, 0].clamp(-1.0, 1.0))
    if coeffs is None:
        return x0.unsqueeze(1)
    c = chosen(coeffs)
    x1 = quantize((x[:, 1] + c[:, 0] * x0).clamp(-1.0, 1.0))
    x2 = quantize((x[:, 2] + c[:, 1] * x0 + c[:, 2] * x1).clamp(-1.0, 1.0))
    return torch.stack([x0, x1, x2], dim=1)
