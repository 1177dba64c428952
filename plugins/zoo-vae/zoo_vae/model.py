"""The VAE of pytorch/examples ``vae/main.py`` (commit 77f55b9), with identical state-dict keys.

fc1 784->400 ReLU; fc21 / fc22 400->20 (mu, logvar); fc3 20->400 ReLU; fc4 400->784 sigmoid.
Default PyTorch init. Loss: summed binary cross-entropy on grey levels in [0, 1] plus the
analytic KL divergence to N(0, I).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import LatentModel, ModelConfig, UnconditionalGenerator, ZooModel, check_images


@dataclass
class VAEConfig(ModelConfig):
    image_size: int = 28
    channels: int = 1
    hidden_dim: int = 400
    latent_dim: int = 20

    @property
    def input_dim(self) -> int:
        return self.channels * self.image_size * self.image_size


class VAE(UnconditionalGenerator, LatentModel, ZooModel):
    """Kingma & Welling's VAE; ``forward(x)`` returns ``(reconstruction, mu, logvar)`` like the reference."""

    architecture = "vae"
    config_class = VAEConfig

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        self.fc1 = nn.Linear(config.input_dim, config.hidden_dim)
        self.fc21 = nn.Linear(config.hidden_dim, config.latent_dim)
        self.fc22 = nn.Linear(config.hidden_dim, config.latent_dim)
        self.fc3 = nn.Linear(config.latent_dim, config.hidden_dim)
        self.fc4 = nn.Linear(config.hidden_dim, config.input_dim)

    # -- the reference's network -----------------------------------------------------------
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu, logvar)`` of q(z | x); ``x`` is anything that views as ``(-1, input_dim)``."""
        h1 = F.relu(self.fc1(x.reshape(-1, self.config.input_dim)))
        return self.fc21(h1), self.fc22(h1)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.decode_logits(z)), mu, logvar

    # -- the task verbs --------------------------------------------------------------------
    def _image_shape(self) -> tuple[int, int, int]:
        c = self.config
        return (c.channels, c.image_size, c.image_size)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean of each image: ``(N, C, H, W)`` in [0, 1] to ``(N, latent_dim)``."""
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="VAE")
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli means for latent codes ``(N, latent_dim)``: images ``(N, C, H, W)`` in [0, 1]."""
        if z.dim() != 2 or z.shape[1] != self.config.latent_dim:
            raise ZooError(f"The VAE decodes codes shaped (N, {self.config.latent_dim}), not {tuple(z.shape)}.")
        return torch.sigmoid(self.decode_logits(z)).reshape(-1, *self._image_shape())

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.config.latent_dim, generator=generator).to(self.device, self.dtype)
        return self.decode(z)

    # -- objective -------------------------------------------------------------------------
    def negative_elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per image: summed BCE + KL in nats (the reference's loss), with one posterior sample."""
        mu, logvar = self.posterior(x)
        eps = torch.randn(mu.shape, generator=generator).to(mu) if generator is not None else torch.randn_like(mu)
        logits = self.decode_logits(mu + eps * torch.exp(0.5 * logvar))
        target = x.reshape(-1, self.config.input_dim)
        bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)
        return bce + kl_divergence(mu, logvar)

    def log_importance_weights(
        self, x: torch.Tensor, k: int, generator: torch.Generator | None = None, *, chunk_rows: int = 65536
    ) -> torch.Tensor:
        """``(N, k)`` log weights ``log p(x|z) + log p(z) - log q(z|x)`` for ``k`` posterior samples per image.

        p(x|z) is the decoder's Bernoulli likelihood of the grey levels (``-BCE with logits``
        summed over pixels, as in the loss), p(z) = N(0, I), q(z|x) the diagonal Gaussian
        posterior; nats. ``logsumexp(w, 1) - log k`` is the IWAE bound (Burda et al. 2015).
        The noise is drawn as one ``(N, k, latent_dim)`` tensor from ``generator``, so for
        k = 1 the samples are those ``negative_elbo`` draws from the same generator state.
        Decoding runs in chunks of at most ``chunk_rows`` (image, sample) pairs.

        Example:
            >>> w = vae.log_importance_weights(x, k=100, generator=torch.Generator().manual_seed(0))
            >>> nll = -(w.logsumexp(1) - math.log(100))  # per image, nats
        """
        if k < 1:
            raise ZooError(f"log_importance_weights needs k >= 1 samples, not {k}.")
        mu, logvar = self.posterior(x)
        n, latent = mu.shape
        shape = (n, k, latent)
        eps = torch.randn(shape, generator=generator).to(mu) if generator is not None else torch.randn(shape).to(mu)
        std = torch.exp(0.5 * logvar).unsqueeze(1)
        z = mu.unsqueeze(1) + eps * std
        log_2pi = math.log(2 * math.pi)
        # log q(z|x) with (z - mu) / std = eps; log p(z) standard normal
        log_q = -0.5 * (eps.pow(2) + log_2pi + logvar.unsqueeze(1)).sum(-1)
        log_prior = -0.5 * (z.pow(2) + log_2pi).sum(-1)
        target = x.reshape(n, 1, self.config.input_dim)
        log_lik = torch.empty(n, k, dtype=mu.dtype, device=mu.device)
        rows = max(1, chunk_rows // k)
        for start in range(0, n, rows):
            logits = self.decode_logits(z[start : start + rows])
            images = target[start : start + rows].expand_as(logits)
            bce = F.binary_cross_entropy_with_logits(logits, images, reduction="none")
            log_lik[start : start + rows] = -bce.sum(-1)
        return log_lik + log_prior - log_q


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per row (Kingma & Welling, appendix B)."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def loss_function(recon_x: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The reference's loss: BCE summed over pixels and batch, plus KL summed over the batch."""
    bce = F.binary_cross_entropy(recon_x, x.reshape_as(recon_x), reduction="sum")
    return bce + kl_divergence(mu, logvar).sum()
