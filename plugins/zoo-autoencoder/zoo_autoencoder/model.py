"""The plain autoencoder of lazyprogrammer's machine_learning_examples (``unsupervised_class3/autoencoder_tf.py``).

One hidden layer: ``z = relu(x W + b)`` (784 -> 300), ``x_hat = sigmoid(z V + c)`` (300 -> 784),
with the reference's variables and shapes (``W`` (D, M), ``b`` (M,), ``V`` (M, D), ``c`` (D,)) and
its initialisation (``W ~ N(0, 2/M)``, ``V ~ N(0, 2/D)``, zero biases). Loss: sigmoid
cross-entropy with logits summed over pixels and batch (the reference's ``reduce_sum``);
optimiser: RMSProp, lr 1e-3 (``training.py``).

A deterministic autoencoder has no prior over its codes, so it cannot sample by itself. To serve
``zoo sample`` this model carries a Gaussian ``N(code_mean, L L^T)`` fitted to the codes of the
training digits after training (``fit_prior``; stored as buffers ``code_mean`` and
``code_scale_tril`` in the state dict) and decodes draws from it. That is a deviation from the
reference (which only reconstructs), written in the card.

Example:
    >>> model = Autoencoder.from_config(code_dim=300)
    >>> model.eval().decode(model.encode(digits)).shape  # digits (N, 1, 28, 28) in [0, 1]
    torch.Size([N, 1, 28, 28])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import LatentModel, ModelConfig, UnconditionalGenerator, ZooModel, check_images

__all__ = ["Autoencoder", "AutoencoderConfig", "reconstruction_loss"]


@dataclass
class AutoencoderConfig(ModelConfig):
    """The reference's MNIST model by default: 28x28 grey images, a code of 300 ReLU units."""

    image_size: int = field(default=28, metadata={"range": (1, 256)})
    channels: int = field(default=1, metadata={"range": (1, 4)})
    code_dim: int = field(default=300, metadata={"range": (1, 65536)})
    #: added to the diagonal of the fitted code covariance, relative to its mean variance (dead ReLU units)
    prior_jitter: float = field(default=1e-4, metadata={"range": (0.0, 1.0)})

    @property
    def input_dim(self) -> int:
        return self.channels * self.image_size * self.image_size


class Autoencoder(UnconditionalGenerator, LatentModel, ZooModel):
    """The reference's autoencoder; ``forward(x)`` returns the reconstruction's logits ``(N, D)``.

    Example:
        >>> model = zoo.load("autoencoder.mnist")
        >>> codes = model.encode(digits)  # (N, 300), ReLU codes
        >>> model.sample(16, seed=0).shape  # decoded draws of the Gaussian fitted to the training codes
        torch.Size([16, 1, 28, 28])
    """

    architecture = "autoencoder"
    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__(config)
        d, m = config.input_dim, config.code_dim
        self.W = nn.Parameter(torch.empty(d, m))  # input -> hidden (the reference's W, D x M)
        self.b = nn.Parameter(torch.zeros(m))
        self.V = nn.Parameter(torch.empty(m, d))  # hidden -> output (the reference's V, M x D)
        self.c = nn.Parameter(torch.zeros(d))
        nn.init.normal_(self.W, 0.0, math.sqrt(2.0 / m))  # tf.random_normal((D, M)) * sqrt(2 / M)
        nn.init.normal_(self.V, 0.0, math.sqrt(2.0 / d))  # tf.random_normal((M, D)) * sqrt(2 / D)
        # the Gaussian over codes that sampling decodes (N(0, I) until fit_prior is called)
        self.register_buffer("code_mean", torch.zeros(m))
        self.register_buffer("code_scale_tril", torch.eye(m))

    # -- the reference's network -----------------------------------------------------------
    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """``relu(x W + b)`` of anything that views as ``(-1, input_dim)``."""
        return F.relu(x.reshape(-1, self.config.input_dim).to(self.W.dtype) @ self.W + self.b)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.V + self.c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode_logits(self.codes(x))

    # -- the task verbs --------------------------------------------------------------------
    def _image_shape(self) -> tuple[int, int, int]:
        c = self.config
        return (c.channels, c.image_size, c.image_size)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code of each image: ``(N, C, H, W)`` in [0, 1] to ``(N, code_dim)`` (ReLU units, >= 0)."""
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="autoencoder")
        return self.codes(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images ``(N, C, H, W)`` in [0, 1] (the sigmoid output) of codes ``(N, code_dim)``."""
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != self.config.code_dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ZooError(f"The autoencoder decodes codes shaped (N, {self.config.code_dim}), not {shape}.")
        return torch.sigmoid(self.decode_logits(z.to(self.W.dtype))).reshape(-1, *self._image_shape())

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Decode ``n`` draws of the Gaussian fitted to the training codes (``fit_prior``)."""
        eps = torch.randn(n, self.config.code_dim, generator=generator).to(self.device, self.dtype)
        return self.decode(self.code_mean + eps @ self.code_scale_tril.t())

    # -- the prior that sampling needs -----------------------------------------------------
    @torch.no_grad()
    def fit_prior(self, images: torch.Tensor, batch_size: int = 500) -> None:
        """Fit ``N(mean, cov)`` to the codes of ``images`` (the training digits) and store it in the buffers.

        ``cov`` is the unbiased sample covariance plus ``prior_jitter`` times its mean variance on the
        diagonal (ReLU units that never fire have zero variance), factorised as ``L L^T`` in float64.

        Example:
            >>> model.fit_prior(load_dataset("mnist5k", split="train").tensors())
        """
        if len(images) < 2:
            raise ZooError(f"A Gaussian over codes needs at least 2 images, not {len(images)}.")
        codes = torch.cat([self.codes(chunk.to(self.device)) for chunk in images.split(batch_size)]).double()
        mean = codes.mean(0)
        cov = torch.cov(codes.t()).reshape(len(mean), len(mean))
        jitter = self.config.prior_jitter * max(float(cov.diagonal().mean()), 1e-12)
        scale = torch.linalg.cholesky(cov + jitter * torch.eye(len(mean), dtype=cov.dtype, device=cov.device))
        self.code_mean.copy_(mean.to(self.code_mean.dtype))
        self.code_scale_tril.copy_(scale.to(self.code_scale_tril.dtype))


def reconstruction_loss(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The reference's cost: ``sigmoid_cross_entropy_with_logits(labels=x, logits)`` summed over pixels and batch."""
    return F.binary_cross_entropy_with_logits(logits, x.reshape_as(logits).to(logits.dtype), reduction="sum")
