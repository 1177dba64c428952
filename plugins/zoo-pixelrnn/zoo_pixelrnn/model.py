"""PixelRNN (van den Oord, Kalchbrenner, Kavukcuoglu 2016, "Pixel Recurrent Neural Networks", sections 3.1-3.3).

The network of the paper's Table 1 and Figure 5, for binary images (binarized MNIST, Table 4):

- a 7x7 convolution with mask A (the pixel itself is hidden) from the image to 2h features;
- ``n_layers`` residual LSTM layers on 2h features (Figure 5: the LSTM has h features, a 1x1
  convolution brings its output back to 2h and adds the layer's input), each one of

  - **Row LSTM** (``layer="row-lstm"``, section 3.1): the image is processed a row at a time;
    the input-to-state is a ``1 x k`` convolution along the row with mask B (the pixel and the
    ones to its left), computed for the whole map at once; the state-to-state a 1-D convolution
    of size k over the previous row's hidden states; ``c_i = f * c_(i-1) + i * g`` per column.
    Its receptive field is a triangle above the pixel;
  - **Diagonal BiLSTM** (``layer="diagonal-bilstm"``, section 3.2): the input-to-state (a 1x1
    convolution, mask B) is skewed (row r shifted right by r), so that the diagonals become
    columns; an LSTM runs along them with a ``2 x 1`` state-to-state convolution, so the state at
    (r, c) reads the states at (r - 1, c) and (r, c - 1) and the cell of (r, c - 1). A second
    LSTM does the same on the image mirrored left-right (it reads (r - 1, c) and (r, c + 1)); its
    output is shifted down one row (so that it sees only rows above) and added to the first's.
    The receptive field is the whole context;

  the gates are ``[o, f, i, g]`` (the paper's order): ``o, f, i`` sigmoids, ``g`` a tanh;
- the output head: ReLU, 1x1 conv (mask B) to ``head_channels``, ReLU, 1x1 conv (mask B) to one
  logit per pixel: ``p(x_ij = 1 | x_<ij) = sigmoid(logit)`` (the paper's sigmoid output for
  MNIST; its 256-way softmax for 8-bit images is not built here).

The default config is the paper's binarized-MNIST model of Table 4 (Diagonal BiLSTM, 7 layers,
h = 16); the head's 32 features are those of the readable references (igul222/pixel_rnn's DIM,
carpedm20/pixel-rnn-tensorflow's ``out_hidden_dims``), as the paper gives none for MNIST. The
skew is applied to the input-to-state *output*, so cells outside the image see zero gates and keep
zero states (igul222 skews the input, so its 1x1 bias leaks into the padding); the initial
states are zero. Module names are ours (``layers.N.forward_lstm.input_to_state`` ...): neither
reference published weights.

Example:
    >>> model = PixelRNN.from_config(layer="row-lstm", n_layers=4)
    >>> model.eval().log_prob(binary_digits)   # nats per image, (N,)
    >>> model.sample(16, seed=0).shape          # cached fast generation
    torch.Size([16, 1, 28, 28])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.layers import MaskedConv2d, conv1x1_as_linear
from zoo_core.modeling import (
    DensityModel,
    ModelConfig,
    UnconditionalGenerator,
    ZooModel,
    check_density_images,
    sample_in_batches,
)

__all__ = [
    "LAYERS",
    "SAMPLING_METHODS",
    "DiagonalBiLSTM",
    "DiagonalLSTM",
    "PixelRNN",
    "PixelRNNConfig",
    "RowLSTM",
    "lstm_update",
    "skew",
    "unskew",
]

#: the paper's two recurrent layers
LAYERS = ("diagonal-bilstm", "row-lstm")
#: "fast": the cached generator (each cell computed once); "naive": the whole network once per pixel
SAMPLING_METHODS = ("fast", "naive")


@dataclass
class PixelRNNConfig(ModelConfig):
    """The paper's binarized-MNIST PixelRNN (Table 4): 28x28 grey, 7 Diagonal BiLSTM layers, h = 16, head 32."""

    image_size: int = field(default=28, metadata={"range": (2, 256)})
    layer: Literal["diagonal-bilstm", "row-lstm"] = "diagonal-bilstm"
    n_layers: int = field(default=7, metadata={"range": (1, 64)})  # residual LSTM layers
    hidden_channels: int = field(default=16, metadata={"range": (1, 4096)})  # h: the residual stream has 2h
    head_channels: int = field(default=32, metadata={"range": (1, 4096)})
    input_kernel: int = field(default=7, metadata={"range": (3, 15)})  # the first (mask A) layer's kernel
    row_kernel: int = field(default=3, metadata={"range": (3, 15)})  # the Row LSTM's k (both its kernels)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("input_kernel", "row_kernel"):
            if getattr(self, name) % 2 == 0:
                raise ZooError(f"PixelRNN's {name} must be odd (the paper's are 7 and 3), not {getattr(self, name)}.")


class RowLSTM(nn.Module):
    """The paper's Row LSTM (section 3.1) as a residual layer on 2h features (Figure 5)."""

    def __init__(self, h: int, k: int) -> None:
        super().__init__()
        self.hidden, self.k = h, k
        self.input_to_state = MaskedConv2d(2 * h, 4 * h, (1, k), "B")
        self.state_to_state = nn.Conv1d(h, 4 * h, k, padding=k // 2, bias=False)
        self.output = nn.Conv2d(h, 2 * h, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, _, width = x.shape
        hid, k = self.hidden, self.k
        # rows-first layout (H, W, B, C): a row is a view of contiguous B x C blocks (see DiagonalBiLSTM)
        inputs = self.input_to_state(x).permute(2, 3, 0, 1)  # (H, W, B, 4h), the whole map at once
        kernel = self.state_to_state.weight.permute(0, 2, 1).reshape(4 * hid, k * hid)  # over [h(c - k//2) ...]
        h = c = x.new_zeros(width, b, hid)
        rows = []
        for row in inputs.unbind(0):
            padded = F.pad(h, (0, 0, 0, 0, k // 2, k // 2))  # zero states beyond the row's ends
            window = torch.cat([padded[t : t + width] for t in range(k)], dim=2)  # (W, B, k x h)
            h, c = lstm_update(row + F.linear(window, kernel), c, hid)
            rows.append(h)
        return x + self.output(torch.stack(rows).permute(2, 3, 0, 1))


class DiagonalLSTM(nn.Module):
    """One direction of a Diagonal BiLSTM: the 1x1 input-to-state (mask B) and the 2x1 state-to-state kernels.

    ``state_to_state.weight[:, :, 0]`` reads the state above, ``[:, :, 1]`` the one before along the row.
    """

    def __init__(self, h: int) -> None:
        super().__init__()
        self.input_to_state = MaskedConv2d(2 * h, 4 * h, 1, "B")
        self.state_to_state = nn.Conv1d(h, 4 * h, 2, bias=False)


class DiagonalBiLSTM(nn.Module):
    """The paper's Diagonal BiLSTM (section 3.2) as a residual layer on 2h features (Figure 5).

    Both directions run in one loop over the skewed columns, their state-to-state kernels in one
    block-diagonal matrix (``state_kernel``).
    """

    def __init__(self, h: int) -> None:
        super().__init__()
        self.hidden = h
        self.forward_lstm = DiagonalLSTM(h)
        self.backward_lstm = DiagonalLSTM(h)
        self.output = nn.Conv2d(h, 2 * h, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, height, width = x.shape
        hid = self.hidden
        # rows-first layout (H, W, B, C) throughout, so that skewing, slicing a column and stacking the columns
        # move contiguous blocks of B x C numbers (the NCHW layout made those copies cost most of the time)
        rows = x.permute(2, 3, 0, 1)
        inputs = torch.cat(
            [
                skew(F.linear(rows, *conv1x1_as_linear(self.forward_lstm.input_to_state))),
                skew(F.linear(rows.flip(1), *conv1x1_as_linear(self.backward_lstm.input_to_state))),
            ],
            dim=3,
        )  # (H, W + H - 1, B, 2 x 4h): skewed, both directions
        kernel = self.state_kernel()
        h = c = x.new_zeros(height, b, 2 * hid)
        columns = []
        for column in inputs.unbind(1):  # (H, B, 2 x 4h) per skewed column: a view of B x 8h-number blocks
            above = F.pad(h, (0, 0, 0, 0, 1, 0))[:height]  # the states of the row above (zeros above row 0)
            gates = column + F.linear(torch.cat([above, h], dim=2), kernel)
            h, c = lstm_update(gates, c, hid)
            columns.append(h)
        states = unskew(torch.stack(columns, dim=1), width)  # (H, W, B, 2h)
        forward, backward = states[..., :hid], states[..., hid:].flip(1)
        backward = F.pad(backward, (0, 0, 0, 0, 0, 0, 1, 0))[:height]  # shifted down one row: rows above only
        out = F.linear(forward + backward, *conv1x1_as_linear(self.output))  # (H, W, B, 2h)
        return x + out.permute(2, 3, 0, 1)

    def state_kernel(self) -> torch.Tensor:
        """Both directions' 2x1 state-to-state kernels as one ``(2 x 4h, 2 x 2h)`` matrix over ``[above, before]``
        states of both directions (block-diagonal per direction)."""
        hid = self.hidden
        f, bw = self.forward_lstm.state_to_state.weight, self.backward_lstm.state_to_state.weight  # (4h, h, 2)
        kernel = f.new_zeros(8 * hid, 4 * hid)
        for d, w in enumerate((f, bw)):
            rows = slice(4 * hid * d, 4 * hid * (d + 1))
            kernel[rows, hid * d : hid * (d + 1)] = w[:, :, 0]  # above
            kernel[rows, 2 * hid + hid * d : 2 * hid + hid * (d + 1)] = w[:, :, 1]  # before along the row
        return kernel


def skew(x: torch.Tensor) -> torch.Tensor:
    """The paper's skew, which turns the diagonals into columns: ``(H, W, ...)`` -> ``(H, W + H - 1, ...)`` with
    row r shifted right by r, zeros elsewhere (rows-first layout).

    Example:
        >>> skew(torch.arange(1., 5.).view(2, 2))
        tensor([[1., 2., 0.],
                [0., 3., 4.]])
    """
    h, w = x.shape[:2]
    flat = F.pad(x, (0, 0) * (x.dim() - 2) + (0, h)).flatten(0, 1)
    return flat[: h * (w + h - 1)].reshape(h, w + h - 1, *x.shape[2:])


def unskew(x: torch.Tensor, width: int) -> torch.Tensor:
    """The inverse of ``skew``: ``(H, W + H - 1, ...)`` -> ``(H, W, ...)``."""
    h = x.shape[0]
    flat = F.pad(x.flatten(0, 1), (0, 0) * (x.dim() - 2) + (0, h))
    return flat.reshape(h, width + h, *x.shape[2:])[:, :width]


def lstm_update(gates: torch.Tensor, c: torch.Tensor, hidden: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step from the pre-activations ``gates`` (``(..., D x 4h)``: per direction D, the paper's
    ``[o, f, i, g]``) and the previous cells ``c`` (``(..., D x h)``): the new ``(h, c)``.

    Example:
        >>> h, c = lstm_update(torch.zeros(28, 2, 64), torch.zeros(28, 2, 16), 16)   # one direction, h = 16
    """
    shape = gates.shape[:-1]
    g = gates.reshape(*shape, -1, 4, hidden)
    sig = torch.sigmoid(g[..., :3, :])
    o, f, i = sig[..., 0, :], sig[..., 1, :], sig[..., 2, :]
    c = f * c.reshape(o.shape) + i * torch.tanh(g[..., 3, :])
    return (o * torch.tanh(c)).reshape(*shape, -1), c.reshape(*shape, -1)


class PixelRNN(UnconditionalGenerator, DensityModel, ZooModel):
    """PixelRNN for binary images; ``forward(x)`` maps 0/1 images to one logit per pixel ``(B, 1, H, W)``.

    Example:
        >>> model = zoo.load("pixelrnn.mnist")
        >>> model.config.layer
        'diagonal-bilstm'
        >>> a = model.sample(16, seed=0)
        >>> torch.equal(a, model.sample(16, seed=0, method="naive"))  # the same images, far slower
        True
    """

    architecture = "pixelrnn"
    config_class = PixelRNNConfig
    pixel_levels = 2
    input_channels = 1  # grey images only
    sample_batch_size = 64

    def __init__(self, config: PixelRNNConfig) -> None:
        super().__init__(config)
        h = config.hidden_channels
        self.input_conv = MaskedConv2d(1, 2 * h, config.input_kernel, "A")
        if config.layer == "row-lstm":
            layers = [RowLSTM(h, config.row_kernel) for _ in range(config.n_layers)]
        else:
            layers = [DiagonalBiLSTM(h) for _ in range(config.n_layers)]
        self.layers = nn.ModuleList(layers)
        self.head_in = MaskedConv2d(2 * h, config.head_channels, 1, "B")
        self.head_out = MaskedConv2d(config.head_channels, 1, 1, "B")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logit of ``p(x[:, 0, i, j] = 1 | earlier pixels)`` for every pixel of ``x``."""
        x = self.input_conv(x)
        for layer in self.layers:
            x = layer(x)
        return self.head_out(F.relu(self.head_in(F.relu(x))))

    # -- the task verbs --------------------------------------------------------------------
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-likelihood in nats of each binary image (``(N, 1, H, W)``, values 0. or 1.): ``(N,)``.

        Example:
            >>> digits = load_dataset("mnist5k", split="test", binarize="stochastic").tensors()
            >>> -model.log_prob(digits).mean()   # the held-out NLL in nats (nll-binarized)
        """
        size = self.config.image_size
        check_density_images(x, pixel_levels=2, channels=1, size=(size, size), what="PixelRNN")
        x = x.to(self.device, self.dtype)
        nll = F.binary_cross_entropy_with_logits(self(x), x, reduction="none")
        return -nll.sum(dim=(1, 2, 3))

    def sample_batch(
        self, n: int, generator: torch.Generator, *, method: str = "fast", progress: bool = False
    ) -> torch.Tensor:
        from .sampling import sample_cached, sample_naive

        sampler = sample_cached if method == "fast" else sample_naive
        return sampler(self, n, generator, progress=progress)

    def sample(self, n: int, *, seed: int | None = None, progress: bool = False, method: str = "fast") -> torch.Tensor:
        """Draw ``n`` binary images (0. / 1.), ``(n, 1, H, W)``; the same seed gives the same images.

        ``method="fast"`` (default) computes every LSTM cell once, as the cached generators of
        Ramachandran et al. (2017) do for convolutions (``zoo_pixelrnn.sampling``); ``"naive"``
        re-runs the whole network for every pixel, as the reference implementations do. Both draw
        the same images from one seed (the same uniform noise, one number per pixel). Runs in eval
        mode without gradients.

        Example:
            >>> model.sample(16, seed=0, progress=True).shape
            torch.Size([16, 1, 28, 28])
        """

        def draw(count: int, generator: torch.Generator) -> torch.Tensor:
            return self.sample_batch(count, generator, method=method, progress=progress)

        return sample_in_batches(n, seed, self.sample_batch_size, draw, method=method, methods=SAMPLING_METHODS)

    def extra_repr(self) -> str:
        c = self.config
        return (
            f"1x{c.image_size}x{c.image_size}, {c.layer} x {c.n_layers}, h={c.hidden_channels}, head={c.head_channels}"
        )
