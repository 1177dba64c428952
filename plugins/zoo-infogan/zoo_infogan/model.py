"""The networks of openai/InfoGAN (``infogan/models/regularized_gan.py``, ``network_type="mnist"``).

Latent code (``launchers/run_mnist_exp.py`` ``latent_spec``, in this order)::

    noise        Uniform(62)              62 values, uniform in [-1, 1], not regularised
    category     Categorical(10)          one-hot, uniform over the 10 categories
    continuous   Uniform(1, fix_std=True) x 2: uniform in [-1, 1]

(``Uniform`` samples its prior uniformly in [-1, 1] and is modelled as a Gaussian by Q;
``noise="normal"`` draws N(0, I) noise instead.) ``z`` = [noise, one-hot category, continuous],
74 values.

Generator (``g_net``): FC 1024, BN, ReLU -> FC 7x7x128, BN, ReLU -> reshape (128, 7, 7) ->
deconv 4x4 stride 2 to 64 channels 14x14, BN, ReLU -> deconv 4x4 stride 2 to 1 channel 28x28
-> sigmoid (the ``MeanBernoulli`` output distribution: the image is its mean ``p``).

Discriminator (``d_net``): a shared body conv 4x4 stride 2 64, lrelu -> conv 4x4 stride 2 128,
BN, lrelu -> FC 1024, BN, lrelu; the D head FC 1 (a logit; the reference applies the sigmoid
in ``discriminate``); the Q head (``encoder_template``) FC 128, BN, lrelu -> FC
``reg_latent_dist.dist_flat_dim`` = 10 + 2 x 2 = 14: the categorical logits, then per
continuous code a (mean, log-variance) pair. With ``fix_std`` (the reference's
``Uniform(1, fix_std=True)``) the standard deviation is 1 and the log-variance outputs are
unused, as in the reference (``Gaussian.activate_dist``); without it std = sqrt(exp(out)).
Q's parameters live in ``d_net``: the discriminator's optimiser trains them.

``leaky_rectify`` has leakiness 0.01 (``misc/custom_ops.py``), not DCGAN's 0.2. Convolutions
are TF ``SAME`` with stride 2 and a 4x4 kernel: padding 1 on each side, 28 -> 14 -> 7 (and the
deconvolutions 7 -> 14 -> 28). Every layer has a bias.

Init (``custom_ops.py``): conv weights truncated normal (std 0.02, cut at 2 std as TF's
``truncated_normal_initializer``), deconv and FC weights N(0, 0.02), biases 0; BatchNorm
gamma N(1, 0.02), beta 0; eps 1e-5 and running averages with decay 0.9 (PyTorch momentum 0.1).

Deviations, all layout-only: tensors are NCHW, so the FC 7x7x128 output is reshaped as
(128, 7, 7) and the body's flatten is channel-major (TF: NHWC); both are a fixed permutation
of FC units, which per-unit batch norm does not see. BatchNorm keeps PyTorch's running-variance
convention (unbiased) for eval mode. The widths are config options for small CPU configs
(``g_hidden``, ``g_channels``, ``d_channels``, ``d_hidden``, ``q_hidden``); ``image_size``
may be any multiple of 4 (the reference builds ``image_size / 4``).

``sample(n, seed=..., codes=...)`` fixes codes: ``codes`` is a dict with any of

- ``"category"``: an int (every image) or ``n`` ints (one per image), from 0 to ``categories - 1``;
- ``"continuous"``: a list of ``continuous`` values, each a float or ``None`` (drawn), the same
  for every image, or an ``(n, continuous)`` tensor / nested list, one row per image;
- ``"noise"``: a ``(noise_dim,)`` tensor (shared) or an ``(n, noise_dim)`` tensor.

Every code is drawn from the seed first (as ``sample_batch`` draws them, batch by batch) and then
overwritten, so the same seed gives the same noise with or without ``codes``.

Example:
    >>> model = InfoGAN(InfoGANConfig())
    >>> list(model.discriminator.q_head.state_dict())[-1], model.discriminator.q_head.out.out_features
    ('out.bias', 14)
    >>> model.sample(10, seed=0, codes={"category": list(range(10)), "continuous": [0.0, None]}).shape
    torch.Size([10, 1, 28, 28])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import (
    ImageClassifier,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_count,
    check_images,
    check_labels,
    inference_verb,
    seeded_generator,
)

__all__ = [
    "CODE_KEYS",
    "InfoGAN",
    "InfoGANConfig",
    "InfoGANDiscriminator",
    "InfoGANGenerator",
    "QHead",
    "SharedBody",
    "infogan_init",
]

#: the keys ``sample(codes=...)`` takes
CODE_KEYS = ("category", "continuous", "noise")


def infogan_init(module: nn.Module) -> None:
    """The reference's initialisers (``custom_ops.py``) for ``net.apply``: see the module docstring.

    Example:
        >>> nn.Conv2d(1, 8, 4).apply(infogan_init).bias.abs().max().item()
        0.0
    """
    if isinstance(module, nn.Conv2d):
        nn.init.trunc_normal_(module.weight, 0.0, 0.02, -0.04, 0.04)  # tf.truncated_normal_initializer
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class InfoGANGenerator(nn.Module):
    """``g_net``: ``(N, latent_dim)`` codes to ``(N, channels, S, S)`` logits (the sigmoid is the caller's).

    Example:
        >>> InfoGANGenerator(74, 28, 1)(torch.zeros(2, 74)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, latent_dim: int, image_size: int, channels: int, hidden: int = 1024, width: int = 128) -> None:
        super().__init__()
        self.side, self.width = image_size // 4, width
        self.fc1 = nn.Linear(latent_dim, hidden)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.fc2 = nn.Linear(hidden, self.side * self.side * width)
        self.bn2 = nn.BatchNorm1d(self.side * self.side * width)
        self.deconv3 = nn.ConvTranspose2d(width, width // 2, 4, 2, 1)
        self.bn3 = nn.BatchNorm2d(width // 2)
        self.deconv4 = nn.ConvTranspose2d(width // 2, channels, 4, 2, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.fc1(z)))
        h = F.relu(self.bn2(self.fc2(h))).view(-1, self.width, self.side, self.side)
        h = F.relu(self.bn3(self.deconv3(h)))
        return self.deconv4(h)


class SharedBody(nn.Module):
    """The part of ``d_net`` that D and Q share: images ``(N, C, S, S)`` to ``(N, hidden)`` features.

    Example:
        >>> SharedBody(28, 1)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 1024])
    """

    def __init__(self, image_size: int, channels: int, width: int = 64, hidden: int = 1024, leak: float = 0.01) -> None:
        super().__init__()
        side = image_size // 4
        self.leak = leak
        self.conv1 = nn.Conv2d(channels, width, 4, 2, 1)
        self.conv2 = nn.Conv2d(width, 2 * width, 4, 2, 1)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.fc3 = nn.Linear(2 * width * side * side, hidden)
        self.bn3 = nn.BatchNorm1d(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv1(x), self.leak)
        h = F.leaky_relu(self.bn2(self.conv2(h)), self.leak)
        return F.leaky_relu(self.bn3(self.fc3(h.flatten(1))), self.leak)


class QHead(nn.Module):
    """``encoder_template`` after the shared body: FC ``hidden``, BN, lrelu, FC ``outputs`` (the flat dist info).

    Example:
        >>> QHead(1024, 14)(torch.zeros(2, 1024)).shape
        torch.Size([2, 14])
    """

    def __init__(self, features: int, outputs: int, hidden: int = 128, leak: float = 0.01) -> None:
        super().__init__()
        self.leak = leak
        self.fc = nn.Linear(features, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.out = nn.Linear(hidden, outputs)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.out(F.leaky_relu(self.bn(self.fc(h)), self.leak))


class InfoGANDiscriminator(nn.Module):
    """``d_net``: ``body``, the D head ``logit`` and the Q head ``q_head``; ``forward(x)`` -> (D logits ``(N,)``,
    Q's flat outputs ``(N, categories + 2 continuous)``), one pass through the body for both.

    Example:
        >>> d, q = InfoGANDiscriminator(28, 1, 14)(torch.zeros(2, 1, 28, 28))
        >>> d.shape, q.shape
        (torch.Size([2]), torch.Size([2, 14]))
    """

    def __init__(
        self,
        image_size: int,
        channels: int,
        q_outputs: int,
        width: int = 64,
        hidden: int = 1024,
        q_hidden: int = 128,
        leak: float = 0.01,
    ) -> None:
        super().__init__()
        self.body = SharedBody(image_size, channels, width, hidden, leak)
        self.logit = nn.Linear(hidden, 1)
        self.q_head = QHead(hidden, q_outputs, q_hidden, leak)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.logit(h).view(-1), self.q_head(h)


@dataclass
class InfoGANConfig(ModelConfig):
    """InfoGAN hyper-parameters; the defaults are ``run_mnist_exp.py``'s (28x28 grey digits).

    ``noise_dim`` (62), ``noise`` (``"uniform"`` in [-1, 1], the reference's ``Uniform(62)``, or
    ``"normal"``), ``categories`` (10: one categorical code), ``continuous`` (2 codes uniform in
    [-1, 1]), ``fix_std`` (Q's Gaussians have std 1), ``leak`` (0.01, ``leaky_rectify``). Widths:
    ``g_hidden`` 1024, ``g_channels`` 128 (the 7x7 map; the deconvolution halves it), ``d_channels``
    64 (the second conv doubles it), ``d_hidden`` 1024, ``q_hidden`` 128.

    Example:
        >>> InfoGANConfig(continuous=1, noise="normal").latent_dim
        73
    """

    image_size: int = 28
    channels: int = 1
    noise_dim: int = 62
    noise: Literal["uniform", "normal"] = "uniform"
    categories: int = field(default=10, metadata={"range": (2, 4096)})
    continuous: int = field(default=2, metadata={"range": (0, 256)})
    fix_std: bool = True
    g_hidden: int = 1024
    g_channels: int = 128
    d_channels: int = 64
    d_hidden: int = 1024
    q_hidden: int = 128
    leak: float = field(default=0.01, metadata={"range": (0.0, 1.0)})

    @property
    def latent_dim(self) -> int:
        """The length of ``z``: noise, one-hot category, continuous codes."""
        return self.noise_dim + self.categories + self.continuous

    def validate(self) -> None:
        super().validate()
        if self.image_size % 4 or self.image_size < 4:
            raise ZooError(
                f"InfoGAN image_size must be a multiple of 4 (the networks work at image_size / 4), not "
                f"{self.image_size!r}; e.g. 28 for mnist5k."
            )
        if self.g_channels % 2:
            raise ZooError(f"InfoGAN g_channels must be even (the deconvolution halves it), not {self.g_channels}.")


def _rows(value: Any, n: int, width: int, what: str, fmt: str) -> torch.Tensor:
    """``value`` as a float ``(n, width)`` tensor (a ``(width,)`` one is repeated), or one sentence."""
    try:
        out = torch.as_tensor(value, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        raise ZooError(f"codes[{what!r}] must be {fmt}, not {value!r}.") from None
    if out.dim() == 1 and len(out) == width:
        out = out.expand(n, width)
    if tuple(out.shape) != (n, width):
        raise ZooError(f"codes[{what!r}] must be {fmt}, not a tensor shaped {tuple(out.shape)}.")
    if not bool(torch.isfinite(out).all()):
        raise ZooError(f"codes[{what!r}] must hold finite numbers; it holds nan or inf.")
    return out


class InfoGAN(UnconditionalGenerator, ImageClassifier, ZooModel):
    """Chen et al.'s InfoGAN: ``generator`` (``g_net``) and ``discriminator`` (``d_net``: ``body``, ``logit``,
    ``q_head``).

    Tasks: ``unconditional`` (``sample(n, seed=..., codes=...)``, images = the generator's sigmoid)
    and ``classification`` (``classify(x)``: Q's categorical logits of images in [0, 1], the paper's
    "categorical code as a classifier"; ``features(x)``: the shared body's ``d_hidden`` features).

    Example:
        >>> gan = zoo.create("infogan")
        >>> gan.classify(torch.rand(3, 1, 28, 28)).shape, gan.features(torch.rand(3, 1, 28, 28)).shape
        (torch.Size([3, 10]), torch.Size([3, 1024]))
        >>> gan.code_grid(code=0, steps=5, seed=0).shape  # Figure 2: rows categories, columns c from -2 to 2
        torch.Size([50, 1, 28, 28])
    """

    architecture = "infogan"
    config_class = InfoGANConfig

    def __init__(self, config: InfoGANConfig) -> None:
        super().__init__(config)
        c = config
        self.generator = InfoGANGenerator(c.latent_dim, c.image_size, c.channels, c.g_hidden, c.g_channels)
        self.generator.apply(infogan_init)
        self.discriminator = InfoGANDiscriminator(
            c.image_size, c.channels, c.categories + 2 * c.continuous, c.d_channels, c.d_hidden, c.q_hidden, c.leak
        )
        self.discriminator.apply(infogan_init)

    # -- the latent code -------------------------------------------------------------------
    def draw_codes(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Codes from the prior, on the CPU from ``generator``: ``noise`` ``(n, noise_dim)``, ``category`` ``(n,)``
        and ``continuous`` ``(n, continuous)``, drawn in that order."""
        c = self.config
        if c.noise == "uniform":
            noise = torch.rand(n, c.noise_dim, generator=generator) * 2 - 1
        else:
            noise = torch.randn(n, c.noise_dim, generator=generator)
        category = torch.randint(0, c.categories, (n,), generator=generator)
        continuous = torch.rand(n, c.continuous, generator=generator) * 2 - 1
        return {"noise": noise, "category": category, "continuous": continuous}

    def latent(self, noise: torch.Tensor, category: torch.Tensor, continuous: torch.Tensor) -> torch.Tensor:
        """``z`` = [noise, one-hot category, continuous], ``(N, latent_dim)``, on the model's device and dtype."""
        onehot = F.one_hot(category.long(), self.config.categories).to(noise.dtype)
        return torch.cat([noise, onehot, continuous.to(noise.dtype)], 1).to(self.device, self.dtype)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] (the sigmoid of the generator's output) of latent codes ``(N, latent_dim)``."""
        dim = self.config.latent_dim
        if z.dim() != 2 or z.shape[1] != dim:
            raise ZooError(f"The InfoGAN generator takes codes shaped (N, {dim}), not {tuple(z.shape)}.")
        return torch.sigmoid(self.generator(z))

    def apply_codes(self, drawn: dict[str, torch.Tensor], codes: dict[str, Any] | None) -> dict[str, torch.Tensor]:
        """``drawn`` with the values ``codes`` fixes (see the module docstring), or one sentence.

        Example:
            >>> model.apply_codes(model.draw_codes(2, seeded_generator(0)), {"category": 4})["category"]
            tensor([4, 4])
        """
        if codes is None:
            return drawn
        if not isinstance(codes, dict):
            raise ZooError(f'codes must be a dict such as {{"category": 3, "continuous": [0.5, None]}}, not {codes!r}.')
        unknown = [k for k in codes if k not in CODE_KEYS]
        if unknown:
            raise ZooError(f"codes has the unknown key {unknown[0]!r}; use {', '.join(map(repr, CODE_KEYS))}.")
        c, out = self.config, dict(drawn)
        n = len(drawn["category"])
        if codes.get("category") is not None:
            value = codes["category"]
            if isinstance(value, torch.Tensor) and value.dim() == 0:
                value = int(value)
            elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
                value = int(value)  # numpy integers too
            try:
                out["category"] = check_labels(value, n, c.categories)
            except ZooError:
                raise ZooError(
                    f"codes['category'] must be one category from 0 to {c.categories - 1} or {n} of them, not "
                    f"{value!r}."
                ) from None
        if codes.get("continuous") is not None:
            out["continuous"] = self._continuous(codes["continuous"], drawn["continuous"])
        if codes.get("noise") is not None:
            out["noise"] = _rows(
                codes["noise"], n, c.noise_dim, "noise", f"a ({c.noise_dim},) or ({n}, {c.noise_dim}) tensor"
            )
        return out

    def _continuous(self, value: Any, drawn: torch.Tensor) -> torch.Tensor:
        n, k = drawn.shape
        fmt = f"a list of {k} values (floats or None) or an ({n}, {k}) tensor"
        if (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and len(value) == k
            and not any(isinstance(v, (Sequence, torch.Tensor)) and not isinstance(v, str) for v in value)
        ):
            out = drawn.clone()
            for j, v in enumerate(value):
                if v is None:
                    continue
                if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                    raise ZooError(f"codes['continuous'] must be {fmt}, not {value!r}.")
                out[:, j] = float(v)
            return out
        return _rows(value, n, k, "continuous", fmt)

    def sample_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        codes = self.draw_codes(n, generator)
        return self.generate(self.latent(codes["noise"], codes["category"], codes["continuous"]))

    def sample(
        self, n: int, *, seed: int | None = None, progress: bool = False, codes: dict[str, Any] | None = None
    ) -> torch.Tensor:
        """``n`` images in [0, 1]; ``codes`` fixes the category, continuous codes or noise (module docstring).

        Example:
            >>> model.sample(8, seed=0, codes={"category": 7, "continuous": [None, 1.0]}).shape
            torch.Size([8, 1, 28, 28])
        """
        check_count(n)
        from tqdm.auto import tqdm

        generator = seeded_generator(seed)
        size = self.sample_batch_size
        starts = range(0, n, size)
        # the draws of sample_batch, batch by batch (without codes: the base class's images); fixed codes then
        # overwrite their part, so that they do not move the noise
        parts = [self.draw_codes(min(size, n - i), generator) for i in starts]
        fixed = self.apply_codes({k: torch.cat([p[k] for p in parts]) for k in parts[0]}, codes)
        chunks = []
        for i in tqdm(starts, desc="sampling", unit="batch", disable=not progress or len(starts) < 2):
            part = {k: v[i : i + size] for k, v in fixed.items()}
            chunks.append(self.generate(self.latent(part["noise"], part["category"], part["continuous"])))
        return torch.cat(chunks).float().clamp(0, 1)

    def code_grid(
        self, code: int = 0, *, steps: int = 10, low: float = -2.0, high: float = 2.0, seed: int | None = 0
    ) -> torch.Tensor:
        """The paper's Figure 2: row i is category i, column j continuous code ``code`` = ``low`` + j (``high`` -
        ``low``) / (steps - 1); one noise vector (drawn from ``seed``) for the whole grid, the other continuous
        codes 0. Images ``(categories * steps, C, S, S)`` in row-major order.

        Example:
            >>> from torchvision.utils import save_image
            >>> save_image(model.code_grid(code=1, steps=10), "figure2d.png", nrow=10)  # width, from -2 to 2
        """
        c = self.config
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < c.continuous:
            raise ZooError(
                f"code must be the index of a continuous code, from 0 to {c.continuous - 1}, not {code!r}."
                if c.continuous
                else "This InfoGAN has no continuous code to vary (continuous=0)."
            )
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise ZooError(f"steps must be a whole number of columns of at least 2, not {steps!r}.")
        noise = self.draw_codes(1, seeded_generator(seed))["noise"]
        values = torch.linspace(float(low), float(high), steps)
        n = c.categories * steps
        continuous = torch.zeros(n, c.continuous)
        continuous[:, code] = values.repeat(c.categories)
        category = torch.arange(c.categories).repeat_interleave(steps)
        return self.sample(n, seed=seed, codes={"noise": noise[0], "category": category, "continuous": continuous})

    # -- Q: the categorical code as a classifier -------------------------------------------
    def _check(self, x: torch.Tensor) -> None:
        c = self.config
        check_images(x, channels=c.channels, size=(c.image_size, c.image_size), what="InfoGAN discriminator")

    @inference_verb
    def posterior(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Q(c | x) of images in [0, 1]: ``logits`` ``(N, categories)``, ``mean`` and ``std`` ``(N, continuous)``.

        Example:
            >>> model.posterior(torch.rand(2, 1, 28, 28))["std"]  # fix_std: 1
            tensor([[1., 1.], [1., 1.]])
        """
        self._check(x)
        _, flat = self.discriminator(x.to(self.device, self.dtype))
        return split_q(flat, self.config.categories, self.config.continuous, self.config.fix_std)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.posterior(x)["logits"]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.discriminator.body(x.to(self.device, self.dtype))

    @inference_verb
    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D's probability that each image (in [0, 1]) is real: ``(N,)``."""
        self._check(x)
        return torch.sigmoid(self.discriminator(x.to(self.device, self.dtype))[0])


def split_q(flat: torch.Tensor, categories: int, continuous: int, fix_std: bool) -> dict[str, torch.Tensor]:
    """The reference's ``activate_dist`` of Q's flat output: categorical ``logits`` (the softmax is the caller's),
    then per continuous code (mean, raw) with ``std`` = 1 (``fix_std``) or sqrt(exp(raw)).

    Example:
        >>> split_q(torch.arange(6.0)[None], 2, 2, True)["mean"]
        tensor([[2., 4.]])
    """
    pairs = flat[:, categories : categories + 2 * continuous].reshape(flat.shape[0], continuous, 2)
    mean = pairs[..., 0]
    std = torch.ones_like(mean) if fix_std else torch.sqrt(torch.exp(pairs[..., 1]))
    return {"logits": flat[:, :categories], "mean": mean, "std": std}
