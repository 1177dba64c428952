"""The VAE's training step for ``zoo train``: the recipe of pytorch/examples ``vae/main.py``.

Summed binary cross-entropy + KL (``loss_function``, the reference's loss), Adam with learning
rate 1e-3, batch 128, 130 epochs over the 4,500 training digits of mnist5k (4,680 steps, about
the reference's 10 epochs over 60,000 MNIST digits), as ``zoo_vae.train`` does by hand.

Two details make it exact under the engine's rules:

- The reparameterisation noise is drawn for the whole global batch with ``global_randn`` (the
  same draw as the reference's ``randn_like(mu)`` with one process), so N processes draw what
  one draws. The forward pass therefore runs through ``VAEObjective``, a thin module that
  takes the noise as an input, since DDP only syncs gradients of forward passes it sees.
- The loss is summed over the batch, so DDP's gradient average is rescaled with
  ``global_loss(loss, "sum")`` to the gradient of the sum over the global batch.

Example:
    $ zoo train vae --dataset mnist5k --out runs/vae --seed 1
    $ zoo train vae --dataset mnist5k --out runs/vae-small --config hidden_dim=64 --train-config lr=3e-4 --steps 500
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo_core.training import StepParams, TrainingStep

from .model import VAE, loss_function

__all__ = ["VAEObjective", "VAEParams", "VAETrainingStep"]


@dataclass
class VAEParams(StepParams):
    """Hyper-parameters of the VAE recipe (``--train-config lr=...``)."""

    lr: float = 1e-3


class VAEObjective(nn.Module):
    """The VAE's forward pass with the posterior noise as an input: ``(x, eps) -> (recon, mu, logvar)``."""

    def __init__(self, vae: VAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.vae.posterior(x)
        z = mu + eps.to(mu.dtype) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.vae.decode_logits(z)), mu, logvar


class VAETrainingStep(TrainingStep):
    """One Adam step on the summed BCE + KL of a batch; logs ``loss`` in nats per image.

    Example:
        >>> zoo_core.training.train("vae", "mnist5k", "runs/vae", seed=1)  # 130 epochs, batch 128
    """

    params_class = VAEParams
    default_batch_size = 128
    default_epochs = 130
    eval_metrics = ("elbo", "iwae-nll", "fid-mnist")
    eval_dataset = "mnist5k"
    eval_split = "test"
    dataset_kinds = ("images", "labelled")
    paper: dict[str, Any] = {  # noqa: RUF012 (read-only class data)
        "title": "Auto-Encoding Variational Bayes",
        "authors": "Diederik P. Kingma, Max Welling",
        "year": 2013,
        "url": "https://arxiv.org/abs/1312.6114",
        "reference_code": "https://github.com/pytorch/examples/blob/main/vae/main.py",
    }
    license = "mit"
    tags = ("mnist",)
    recipe = "summed BCE + KL, Adam (lr from --train-config, 1e-3 by default), as pytorch/examples vae/main.py"

    def networks(self) -> dict[str, nn.Module]:
        return {"vae": VAEObjective(self.model)}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(self.model.parameters(), lr=self.params.lr)}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, torch.Tensor]:
        x = batch["image"]
        eps = self.global_randn(self.model.config.latent_dim)
        optimizer = self.opts["adam"]
        optimizer.zero_grad()
        with self.autocast():
            recon, mu, logvar = self.nets["vae"](x, eps)
        # binary_cross_entropy is unsafe in bf16 autocast: the loss is computed in float32
        loss = loss_function(recon.float(), x, mu.float(), logvar.float())
        self.global_loss(loss, "sum").backward()
        optimizer.step()
        return {"loss": loss.detach() / len(x)}
