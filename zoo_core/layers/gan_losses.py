"""GAN objectives of junyanz's ``models/networks.py``: ``GANLoss`` and ``cal_gradient_penalty``.

``GANLoss(gan_mode)`` takes a discriminator's raw output (logits; no sigmoid) and whether the
target is "real", and builds the target tensor for you, as the reference does: its
``real_label`` (1.0) or ``fake_label`` (0.0) buffer expanded to the prediction's shape.

- ``"vanilla"`` (pix2pix): ``BCEWithLogitsLoss(prediction, label)``;
- ``"lsgan"`` (CycleGAN): ``MSELoss(prediction, label)``;
- ``"wgangp"``: ``-prediction.mean()`` for real, ``prediction.mean()`` for fake (labels unused).

``gradient_penalty`` is the reference's ``cal_gradient_penalty`` (Gulrajani et al. 2017):
``lambda_gp * mean((||grad D(x_hat)||_2 - constant)**2)`` at ``x_hat`` = the real images, the fake
ones, or (``"mixed"``, the default) ``alpha * real + (1 - alpha) * fake`` with one uniform
``alpha`` per sample; ``constant`` 1, ``lambda_gp`` 10.

Example:
    >>> criterion = GANLoss("lsgan")
    >>> float(criterion(torch.ones(1, 1, 30, 30), True))
    0.0
"""

from __future__ import annotations

import torch
from torch import nn

from .._errors import ZooError

__all__ = ["GAN_MODES", "PENALTY_TYPES", "GANLoss", "gradient_penalty"]

#: the ``gan_mode`` values ``GANLoss`` accepts
GAN_MODES = ("vanilla", "lsgan", "wgangp")

#: the ``type`` values ``gradient_penalty`` accepts
PENALTY_TYPES = ("mixed", "real", "fake")


class GANLoss(nn.Module):
    """The reference's ``GANLoss``: ``criterion(prediction, target_is_real)`` -> a 0-d loss.

    The label buffers move with ``.to(device)`` but are not persistent: they never enter a
    state dict (the reference keeps the criterion outside its networks, so its checkpoints
    have no such keys either).

    Example:
        >>> criterion = GANLoss("vanilla")
        >>> logits = torch.zeros(2, 1, 30, 30)
        >>> round(float(criterion(logits, True)), 4)  # -log(sigmoid(0))
        0.6931
    """

    real_label: torch.Tensor
    fake_label: torch.Tensor

    def __init__(self, gan_mode: str, target_real_label: float = 1.0, target_fake_label: float = 0.0) -> None:
        super().__init__()
        if gan_mode not in GAN_MODES:
            raise ZooError(f"Unknown gan_mode {gan_mode!r}; choose one of {', '.join(GAN_MODES)}.")
        self.gan_mode = gan_mode
        self.register_buffer("real_label", torch.tensor(target_real_label), persistent=False)
        self.register_buffer("fake_label", torch.tensor(target_fake_label), persistent=False)
        self.loss: nn.Module | None
        if gan_mode == "lsgan":
            self.loss = nn.MSELoss()
        elif gan_mode == "vanilla":
            self.loss = nn.BCEWithLogitsLoss()
        else:
            self.loss = None

    def get_target_tensor(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        """The label (``real_label`` or ``fake_label``) expanded to ``prediction``'s shape.

        Example:
            >>> GANLoss("lsgan").get_target_tensor(torch.randn(2, 1, 3, 3), False).unique()
            tensor([0.])
        """
        label = self.real_label if target_is_real else self.fake_label
        return label.to(prediction.dtype).expand_as(prediction)

    def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        if self.loss is not None:
            return self.loss(prediction, self.get_target_tensor(prediction, target_is_real))
        return -prediction.mean() if target_is_real else prediction.mean()

    def extra_repr(self) -> str:
        return f"gan_mode={self.gan_mode!r}"


def gradient_penalty(
    discriminator: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    type: str = "mixed",
    constant: float = 1.0,
    lambda_gp: float = 10.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The WGAN-GP penalty and the per-sample flattened gradients, as the reference's ``cal_gradient_penalty``.

    Returns ``(penalty, gradients)``; with ``lambda_gp <= 0`` it returns ``(0-d zero, None)``.
    The graph is kept (``create_graph=True``) so ``penalty.backward()`` reaches the
    discriminator's weights. Pass ``fake.detach()`` for a discriminator update, as usual. The
    ``"mixed"`` interpolation weights come from ``generator`` (on the images' device), else
    from the global generator. Like the reference, ``1e-16`` is added to the gradients before
    the norm, so that the norm's own gradient exists at zero.

    Example:
        >>> d = nn.Sequential(nn.Flatten(), nn.Linear(12, 1))
        >>> penalty, grads = gradient_penalty(d, torch.randn(4, 3, 2, 2), torch.randn(4, 3, 2, 2))
        >>> penalty.shape, grads.shape
        (torch.Size([]), torch.Size([4, 12]))
    """
    if type not in PENALTY_TYPES:
        raise ZooError(f"Unknown gradient penalty type {type!r}; choose one of {', '.join(PENALTY_TYPES)}.")
    if lambda_gp <= 0.0:
        return real.new_zeros(()), None
    if type == "mixed":
        n = real.shape[0]
        alpha = torch.rand(n, 1, device=real.device, dtype=real.dtype, generator=generator)
        alpha = alpha.expand(n, real.numel() // n).reshape(real.shape)
        points = alpha * real + (1 - alpha) * fake
    else:
        points = real if type == "real" else fake
    if not points.requires_grad:
        # the reference calls requires_grad_ on the images themselves; a detached alias leaves the caller's alone
        points = points.detach().requires_grad_(True)
    out = discriminator(points)
    (gradients,) = torch.autograd.grad(
        outputs=out,
        inputs=points,
        grad_outputs=torch.ones_like(out),
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )
    gradients = gradients.reshape(real.shape[0], -1)
    penalty = (((gradients + 1e-16).norm(2, dim=1) - constant) ** 2).mean() * lambda_gp
    return penalty, gradients
