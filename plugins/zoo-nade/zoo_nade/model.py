"""NADE (Larochelle & Murray 2011): a density model of binary images, one Bernoulli conditional per pixel.

The pixels ``x_1 .. x_D`` (D = H x W, raster order) are modelled as

    p(x) = prod_d p(x_d | x_<d),   p(x_d = 1 | x_<d) = sigmoid(b_d + V_d . h_d),
    h_d = sigmoid(a_d),            a_d = c + W[:, <d] x_<d,

with one hidden layer of ``hidden_dim`` sigmoid units whose input weights ``W`` (H x D) are
shared by every conditional (the paper's eq. 3-4; its names: ``W``, ``c``, ``V``, ``b``; the
same shapes as pytorch-generative's ``_in_W``, ``_in_b``, ``_h_W``, ``_h_b``). Because
``a_{d+1} = a_d + W[:, d] x_d``, every conditional of an image costs O(H): the log-likelihood of
a whole image and a whole sample cost O(HD) (the paper's section 3). ``log_prob`` computes the
running pre-activation for all pixels at once (``forward``); ``sample`` keeps it as it draws.

Sampling methods (the same images from the same seed: one uniform per pixel, drawn up front):

- ``"fast"`` (default): the running pre-activation, O(HD) per image;
- ``"naive"``: recomputes ``a_d = c + W[:, <d] x_<d`` from scratch for each pixel, O(HD^2);
- ``"forward"``: re-runs the whole likelihood network (every conditional) for each pixel, the
  generic autoregressive loop (PixelCNN++'s ``naive``), O(HD^2) with D times more work per step.

Pixel d is 1 where its logit exceeds ``logit(u_d)`` (the same as ``u_d < p_d``). Sampling runs in
float64, so the three methods reach the same logits up to ~1e-13, far below the chance that a
uniform draw falls between two of them.

Example:
    >>> model = NADE.from_config(hidden_dim=500)
    >>> x = load_dataset("mnist5k", split="test", binarize="stochastic").tensors()[:8]
    >>> model.eval().log_prob(x).shape
    torch.Size([8])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core.modeling import (
    DensityModel,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_density_images,
    sample_in_batches,
)

__all__ = ["NADE", "SAMPLING_METHODS", "NADEConfig"]

SAMPLING_METHODS = ("fast", "naive", "forward")


@dataclass
class NADEConfig(ModelConfig):
    """The paper's binarized-MNIST model by default: 28x28 binary pixels, 500 hidden units."""

    image_size: int = field(default=28, metadata={"range": (1, 256)})
    channels: int = field(default=1, metadata={"range": (1, 1)})  # binary grey images
    hidden_dim: int = field(default=500, metadata={"range": (1, 65536)})
    init_std: float = field(default=0.01, metadata={"range": (0.0, 10.0)})  # std of the N(0, s^2) init of W and V

    @property
    def input_dim(self) -> int:
        return self.channels * self.image_size * self.image_size


class NADE(UnconditionalGenerator, DensityModel, ZooModel):
    """NADE; ``forward(x)`` maps binary images ``(N, 1, H, W)`` to the logits of every conditional ``(N, D)``.

    Example:
        >>> model = zoo.load("nade.mnist")
        >>> model.log_prob(binary_digits).mean()  # nats per image
        >>> model.sample(16, seed=0, method="naive")  # the same images as method="fast", slower
    """

    architecture = "nade"
    config_class = NADEConfig
    pixel_levels = 2
    sample_batch_size = 256

    def __init__(self, config: NADEConfig) -> None:
        super().__init__(config)
        hidden, dims = config.hidden_dim, config.input_dim
        self.W = nn.Parameter(torch.empty(hidden, dims))  # input -> hidden, shared by every conditional
        self.c = nn.Parameter(torch.zeros(hidden))  # hidden bias
        self.V = nn.Parameter(torch.empty(dims, hidden))  # hidden -> conditional d (row d)
        self.b = nn.Parameter(torch.zeros(dims))  # visible bias
        nn.init.normal_(self.W, 0.0, config.init_std)
        nn.init.normal_(self.V, 0.0, config.init_std)

    # -- the network -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of ``p(x_d = 1 | x_<d)`` for every pixel of ``x`` (``(N, 1, H, W)`` or ``(N, D)``): ``(N, D)``.

        The running pre-activation ``a_d = c + W[:, <d] x_<d`` of every pixel, computed a row of the
        image at a time: the rows above as a cumulative sum of whole rows' contributions, the pixels
        to the left within the row as one masked matrix product (the same numbers as the running sum,
        in about half the time of a cumulative sum over all D pixels on a CPU).
        """
        size, hidden = self.config.image_size, self.config.hidden_dim
        n = x.shape[0]
        flat = x.reshape(n, self.config.input_dim).to(self.W.dtype)
        rows_x = flat.reshape(n, size, size).transpose(0, 1)  # (rows, N, columns)
        rows_w = self.W.t().reshape(size, size, hidden)  # (rows, columns, H)
        rows = torch.bmm(rows_x, rows_w)  # (rows, N, H): each row's whole contribution
        above = torch.cumsum(rows, 0) - rows + self.c  # (rows, N, H): c + the rows above
        left = torch.tril(torch.ones(size, size, dtype=flat.dtype, device=flat.device), -1)  # [j, i]: i < j
        masked = rows_x.unsqueeze(1) * left[None, :, None, :]  # (rows, j, N, i): x_i for i < j
        a = torch.bmm(masked.reshape(size, size * n, size), rows_w).view(size, size, n, hidden)
        hidden_units = torch.sigmoid(a + above.unsqueeze(1)).view(size * size, n, hidden)  # (D, N, H)
        logits = torch.bmm(hidden_units, self.V.unsqueeze(2)).view(size * size, n)
        return logits.t() + self.b

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """``-log p(x)`` in nats of each binary image, ``(N,)``, with gradients (the training loss)."""
        flat = x.reshape(x.shape[0], self.config.input_dim).to(self.W.dtype)
        return F.binary_cross_entropy_with_logits(self(flat), flat, reduction="none").sum(1)

    # -- the task verbs --------------------------------------------------------------------
    def _check(self, x: torch.Tensor) -> None:
        c = self.config
        check_density_images(
            x, pixel_levels=self.pixel_levels, channels=c.channels, size=(c.image_size, c.image_size), what="NADE"
        )

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-likelihood in nats of each binary image (``(N, 1, H, W)``, pixels exactly 0. or 1.): ``(N,)``.

        Grey pixels are refused in one sentence: binarize first
        (``load_dataset("mnist5k", binarize="stochastic")``).

        Example:
            >>> model.log_prob(x)  # x: (N, 1, 28, 28) of 0. and 1.
            tensor([-84.1, -97.3, ...])
        """
        self._check(x)
        return -self.nll(x)

    def sample_batch(
        self, n: int, generator: torch.Generator, *, method: str = "fast", progress: bool = False
    ) -> torch.Tensor:
        uniforms = torch.rand(n, self.config.input_dim, generator=generator, dtype=torch.float64)
        sampler = {"fast": self._sample_fast, "naive": self._sample_naive, "forward": self._sample_forward}[method]
        flat = sampler(uniforms.to(self.W.device))
        c = self.config
        return flat.reshape(n, c.channels, c.image_size, c.image_size).to(self.dtype)

    def sample(self, n: int, *, seed: int | None = None, progress: bool = False, method: str = "fast") -> torch.Tensor:
        """Draw ``n`` binary images ``(n, 1, H, W)`` pixel by pixel; the same seed gives the same images.

        ``method="fast"`` keeps the running pre-activation (O(HD) per image), ``"naive"`` recomputes
        the hidden layer from scratch for each pixel, ``"forward"`` re-runs the whole network for each
        pixel; all three draw the same images from the same seed. Runs in eval mode without
        gradients, by the base class.

        Example:
            >>> a = model.sample(16, seed=0)
            >>> torch.equal(a, model.sample(16, seed=0, method="naive"))
            True
        """

        def draw(count: int, generator: torch.Generator) -> torch.Tensor:
            return self.sample_batch(count, generator, method=method)

        return sample_in_batches(n, seed, self.sample_batch_size, draw, method=method, methods=SAMPLING_METHODS)

    # -- the samplers (float64; pixel d is 1 where its logit exceeds logit(u_d), i.e. u_d < p_d) -------
    def _double(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.W.double(), self.c.double(), self.V.double(), self.b.double()

    def _sample_fast(self, uniforms: torch.Tensor) -> torch.Tensor:
        """O(HD): ``a`` starts at ``c`` and gains ``W[:, d] x_d`` after pixel d is drawn (five small ops a pixel)."""
        W, c, V, b = self._double()
        n, dims = uniforms.shape
        thresholds = torch.logit(uniforms).t().unbind(0)  # x_d = 1 where logit_d > logit(u_d)
        columns, rows, biases = W.t().unbind(0), V.unbind(0), b.unbind(0)  # W[:, d], V[d], b[d] as views
        a = c.expand(n, -1).clone()
        pixels = []
        for d in range(dims):
            logit = torch.addmv(biases[d], torch.sigmoid(a), rows[d])  # b_d + V_d . sigmoid(a_d)
            x_d = (logit > thresholds[d]).to(torch.float64)
            a.addr_(x_d, columns[d])  # a_{d+1} = a_d + W[:, d] x_d, in place
            pixels.append(x_d)
        return torch.stack(pixels, 1)

    def _sample_naive(self, uniforms: torch.Tensor) -> torch.Tensor:
        """O(HD^2): for each pixel, ``a_d = c + x_<d W[:, <d]^T`` recomputed from scratch."""
        W, c, V, b = self._double()
        n, dims = uniforms.shape
        thresholds = torch.logit(uniforms)
        x = torch.zeros(n, dims, dtype=torch.float64, device=uniforms.device)
        for d in range(dims):
            a = c + x[:, :d] @ W[:, :d].t()
            logit = torch.sigmoid(a) @ V[d] + b[d]
            x[:, d] = (logit > thresholds[:, d]).to(torch.float64)
        return x

    def _sample_forward(self, uniforms: torch.Tensor) -> torch.Tensor:
        """O(HD^2), D times the naive loop's work: the whole likelihood network for each pixel."""
        W, c, V, b = self._double()
        n, dims = uniforms.shape
        x = torch.zeros(n, dims, dtype=torch.float64, device=uniforms.device)
        thresholds = torch.logit(uniforms)
        for d in range(dims):
            logit = self._logits64(x, W, c, V, b)[:, d]
            x[:, d] = (logit > thresholds[:, d]).to(torch.float64)
        return x

    @staticmethod
    def _logits64(x: torch.Tensor, W: torch.Tensor, c: torch.Tensor, V: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Every conditional's logit of flat images ``x`` (float64), as a plain cumulative sum over pixels."""
        contributions = x.unsqueeze(2) * W.t().unsqueeze(0)  # (N, D, H): x_k W[:, k]
        a = torch.cumsum(contributions, dim=1) - contributions + c  # exclusive: the pixels before d
        return torch.einsum("ndh,dh->nd", torch.sigmoid(a), V) + b

    def extra_repr(self) -> str:
        c = self.config
        return f"{c.image_size}x{c.image_size} binary pixels, hidden_dim={c.hidden_dim}"
