"""``stackgan-text``: a character-level CNN-RNN sentence encoder (after Reed et al. 2016), and its image twin.

StackGAN is conditioned on a sentence embedding: the reference consumes the 1024-d
char-CNN-RNN embeddings of Reed et al., "Learning Deep Representations of Fine-Grained Visual
Descriptions" (CVPR 2016, code reedscot/icml2016 ``HybridCNNLong``), precomputed for its birds
and flowers. To let a user type a sentence, this plugin carries an encoder of the same design,
small enough to train on a CPU in minutes, trained here on mnist5k-captions
(``zoo train stackgan-text``, see ``text_training``).

``CharCNNRNN`` (the text encoder φ), for a text of at most ``max_length`` characters:

1. normalise (``check_text``: lower case, strip, collapse spaces; refuse empty text, characters
   outside ``alphabet`` and over-long text with one sentence), then one-hot: each character is a
   vector of ``len(alphabet)``, and the text is padded with zero vectors to ``max_length``;
2. three temporal convolutions of width 4, each followed by ReLU, the first two by max-pooling
   of width 3 and stride 3 (Reed's 384, 512, 256 channels over 201 characters; ours
   ``conv_channels`` and ``cnn_dim``: 128, 256, 256 over 128 characters, which leaves 9 steps);
3. a one-layer tanh RNN of ``cnn_dim`` units over those steps; its hidden states are averaged
   over time (Reed's ``avg`` option), but only over the steps whose receptive field starts inside
   the text (step t starts at character 9t): Reed averages all steps of 201 characters that
   his long bird descriptions mostly fill, while our captions fill about a third of 128 and the
   padding's steps would drown them;
4. dropout (``dropout``, 0 by default as Reed's) and a linear map to ``embedding_dim`` (1024,
   StackGAN's ``text_dim``).

Initialisation (ours, see ``CharCNNRNN.reset_parameters``): He-normal convolutions with zero
biases, the first layer's fan-in counted as the 4 non-zero one-hot inputs of its window. With
PyTorch's default every text starts with nearly the same embedding (pairwise cosine 0.9996)
and the joint training crawls; with this one they start apart (0.89).

The image encoder θ (``ImageEncoder``) stands in for Reed's GoogLeNet features: three 3x3
convolutions with ReLU (the first two max-pooled by 2), average-pooled to 4x4, then a hidden
layer and a linear map to the same ``embedding_dim``. It exists for the joint training only:
the compatibility of an image and a text is ``F(v, t) = θ(v) · φ(t)``. A StackGAN keeps the
``CharCNNRNN`` alone (as its ``text_encoder``, keys ``text_encoder.cnn.*``, ``.rnn.*``, ``.proj.*``).

Example:
    >>> import zoo_core as zoo
    >>> encoder = zoo.load("runs/stackgan-text/model")
    >>> encoder.encode_text(["a thick seven slanting to the right", "a thin 2"]).shape
    torch.Size([2, 1024])
    >>> encoder.encode_text("日本")
    ZooError: The text '日本' has characters the text encoder does not know: ...
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ModelConfig, TextEmbedder, ZooModel, check_images

__all__ = [
    "ALPHABET",
    "EXAMPLE_TEXT",
    "CharCNNRNN",
    "ImageEncoder",
    "TextEncoder",
    "TextEncoderConfig",
    "check_text",
    "describe_alphabet",
]

#: the characters the encoder reads: lowercase letters, digits, the space and a little punctuation
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 ,.;:!?'-"
EXAMPLE_TEXT = "a thick seven slanting to the right"
#: the temporal convolutions' width and the max-pooling's width and stride (Reed's)
KERNEL, POOL = 4, 3


def describe_alphabet(alphabet: str) -> str:
    """The alphabet in words, runs of consecutive characters shortened.

    Example:
        >>> describe_alphabet(ALPHABET)
        "a-z, 0-9, the space and , . ; : ! ? ' -"
    """
    parts: list[str] = []
    chars = list(dict.fromkeys(alphabet))
    i = 0
    while i < len(chars):
        j = i
        while j + 1 < len(chars) and chars[j + 1].isalnum() and ord(chars[j + 1]) == ord(chars[j]) + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{chars[i]}-{chars[j]}")
        else:
            parts.extend(chars[i : j + 1])
        i = j + 1
    words = ["the space" if p == " " else p for p in parts]
    runs = [w for w in words if len(w) > 1]
    singles = [w for w in words if len(w) == 1]
    return ", ".join(runs) + (" and " + " ".join(singles) if singles else "")


def _char_name(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"{char!r} (U+{ord(char):04X}{' ' + name if name else ''})"


def check_text(text: str, alphabet: str = ALPHABET, max_length: int | None = None) -> str:
    """``text`` normalised (lower case, stripped, runs of white space made one space), or a one-sentence ZooError.

    Fails on a text that is not a string, is empty once normalised, holds characters outside
    ``alphabet`` (each named with its code point), or is longer than ``max_length``.

    Example:
        >>> check_text("  A thick   SEVEN ")
        'a thick seven'
        >>> check_text("")
        ZooError: The text is empty; describe the digit, e.g. "a thick seven slanting to the right".
        >>> check_text("日本")
        ZooError: The text '日本' has characters the text encoder does not know: '日' (U+65E5 CJK UNIFIED
        IDEOGRAPH-65E5), '本' (U+672C CJK UNIFIED IDEOGRAPH-672C); it knows only a-z, 0-9, the space
        and , . ; : ! ? ' - (upper case is read as lower case).
    """
    if not isinstance(text, str):
        raise ZooError(f"The text must be a string, not {type(text).__name__}.")
    normal = " ".join(text.lower().split())
    if not normal:
        raise ZooError(f'The text is empty; describe the digit, e.g. "{EXAMPLE_TEXT}".')
    unknown = list(dict.fromkeys(c for c in normal if c not in alphabet))
    if unknown:
        named = ", ".join(_char_name(c) for c in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        shown = normal if len(normal) <= 40 else normal[:37] + "..."
        raise ZooError(
            f"The text {shown!r} has characters the text encoder does not know: {named}{more}; "
            f"it knows only {describe_alphabet(alphabet)} (upper case is read as lower case)."
        )
    if max_length is not None and len(normal) > max_length:
        raise ZooError(
            f"The text is {len(normal)} characters long but the text encoder reads at most {max_length}; shorten it."
        )
    return normal


def _steps(max_length: int) -> int:
    """How many time steps the RNN sees for ``max_length`` characters (3 convolutions, 2 poolings)."""
    t = max_length
    t = (t - KERNEL + 1) // POOL
    t = (t - KERNEL + 1) // POOL
    return t - KERNEL + 1


class CharCNNRNN(nn.Module):
    """Reed et al.'s char-CNN-RNN: one-hot characters → 3 temporal convolutions → RNN, averaged → linear.

    Keys: ``cnn.0`` / ``cnn.3`` / ``cnn.6`` (the convolutions), ``rnn.*_l0``, ``proj``.

    Example:
        >>> encoder = CharCNNRNN(embedding_dim=1024)
        >>> encoder.encode(["a thick seven slanting to the right", "a thin upright two"]).shape
        torch.Size([2, 1024])
        >>> encoder.tokenize("a 7").shape
        torch.Size([1, 128])
    """

    def __init__(
        self,
        alphabet: str = ALPHABET,
        max_length: int = 128,
        embedding_dim: int = 1024,
        conv_channels: Sequence[int] = (128, 256),
        cnn_dim: int = 256,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not isinstance(alphabet, str) or not alphabet or len(set(alphabet)) != len(alphabet):
            raise ZooError(f"The alphabet must be a non-empty string of distinct characters, not {alphabet!r}.")
        if alphabet != alphabet.lower():
            raise ZooError("The alphabet must be lower case: texts are lowered before they are read.")
        if isinstance(max_length, bool) or not isinstance(max_length, int) or _steps(max_length) < 1:
            raise ZooError(
                f"max_length must be an integer of at least 48 (the convolutions need it), not {max_length!r}."
            )
        widths = list(conv_channels)
        sizes = [("embedding_dim", embedding_dim), ("cnn_dim", cnn_dim)] + [("conv_channels", c) for c in widths]
        for name, value in sizes:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ZooError(f"The text encoder's {name} must be positive integers, not {value!r}.")
        if len(widths) != 2:
            raise ZooError(
                f"conv_channels lists the widths of the first two convolutions, e.g. [128, 256], not {widths}."
            )
        if not 0 <= dropout < 1:
            raise ZooError(f"dropout must be in [0, 1), not {dropout!r}.")
        self.alphabet, self.max_length, self.embedding_dim = alphabet, max_length, embedding_dim
        self._index = {c: i + 1 for i, c in enumerate(alphabet)}  # 0 is padding: a zero vector
        self.cnn = nn.Sequential(
            nn.Conv1d(len(alphabet), widths[0], KERNEL),
            nn.ReLU(),
            nn.MaxPool1d(POOL, POOL),
            nn.Conv1d(widths[0], widths[1], KERNEL),
            nn.ReLU(),
            nn.MaxPool1d(POOL, POOL),
            nn.Conv1d(widths[1], cnn_dim, KERNEL),
            nn.ReLU(),
        )
        self.rnn = nn.RNN(cnn_dim, cnn_dim, batch_first=True, nonlinearity="tanh")
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(cnn_dim, embedding_dim)
        self.reset_parameters()

    @classmethod
    def from_config(cls, config: TextEncoderConfig) -> CharCNNRNN:
        """The text encoder a ``TextEncoderConfig`` describes (what a StackGAN builds as its ``text_encoder``).

        Example:
            >>> CharCNNRNN.from_config(TextEncoderConfig()).proj.out_features
            1024
        """
        return cls(
            config.alphabet,
            config.max_length,
            config.embedding_dim,
            config.conv_channels,
            config.cnn_dim,
            config.dropout,
        )

    def reset_parameters(self) -> None:
        """He-normal convolutions with zero biases; the first counts only its KERNEL non-zero one-hot inputs.

        PyTorch's default (uniform, fan-in over every one-hot channel) shrinks the sparse one-hot
        signal at each layer, so that every text starts with nearly the same embedding and the
        joint training first spends many epochs escaping that saddle.
        """
        convs = [m for m in self.cnn if isinstance(m, nn.Conv1d)]
        nn.init.normal_(convs[0].weight, 0.0, (2.0 / KERNEL) ** 0.5)
        for conv in convs[1:]:
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        for conv in convs:
            nn.init.zeros_(conv.bias)

    def tokenize(self, texts: str | Sequence[str]) -> torch.Tensor:
        """Texts to ``(n, max_length)`` character indices (1 + position in the alphabet; 0 pads), checked first.

        Example:
            >>> CharCNNRNN().tokenize("ab")[0, :3]
            tensor([1, 2, 0])
        """
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, Sequence) or len(texts) == 0:
            raise ZooError(f'Give at least one text, e.g. "{EXAMPLE_TEXT}".')
        tokens = torch.zeros(len(texts), self.max_length, dtype=torch.long)
        for row, text in enumerate(texts):
            normal = check_text(text, self.alphabet, self.max_length)
            tokens[row, : len(normal)] = torch.tensor([self._index[c] for c in normal], dtype=torch.long)
        return tokens

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(n, max_length)`` indices from ``tokenize`` to ``(n, embedding_dim)`` embeddings."""
        if tokens.dim() != 2 or tokens.shape[1] != self.max_length:
            raise ZooError(f"The text encoder takes tokens shaped (n, {self.max_length}), not {tuple(tokens.shape)}.")
        weight = self.cnn[0].weight
        one_hot = F.one_hot(tokens.to(weight.device), len(self.alphabet) + 1)[..., 1:].to(weight.dtype)
        h = self.cnn(one_hot.transpose(1, 2))  # (n, cnn_dim, steps)
        states, _ = self.rnn(h.transpose(1, 2))  # (n, steps, cnn_dim)
        # step t's receptive field starts at character t * POOL^2: average the steps that saw text
        lengths = (tokens > 0).sum(dim=1).to(states.device)
        valid = ((lengths + POOL * POOL - 1) // (POOL * POOL)).clamp(1, states.shape[1])
        mask = (torch.arange(states.shape[1], device=states.device)[None, :] < valid[:, None]).to(states.dtype)
        pooled = (states * mask[..., None]).sum(dim=1) / mask.sum(dim=1, keepdim=True)
        return self.proj(self.dropout(pooled))

    def encode(self, texts: str | Sequence[str]) -> torch.Tensor:
        """Embed texts (each checked with ``check_text``): ``(n, embedding_dim)``, with gradients if enabled.

        Example:
            >>> CharCNNRNN().encode("a thin upright two").shape
            torch.Size([1, 1024])
        """
        return self(self.tokenize(texts))


class ImageEncoder(nn.Module):
    """θ: a small CNN from ``(n, C, H, W)`` images in [0, 1] to ``(n, embedding_dim)`` (for the joint training).

    Example:
        >>> ImageEncoder(1, (32, 64, 128), 256, 1024)(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 1024])
    """

    def __init__(self, channels: int, widths: Sequence[int], hidden: int, embedding_dim: int) -> None:
        super().__init__()
        widths = list(widths)
        if len(widths) != 3 or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
            raise ZooError(f"image_widths lists three positive convolution widths, e.g. [32, 64, 128], not {widths}.")
        self.body = nn.Sequential(
            nn.Conv2d(channels, widths[0], 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(widths[0], widths[1], 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(widths[1], widths[2], 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(widths[2] * 16, hidden), nn.ReLU(), nn.Linear(hidden, embedding_dim)
        )
        for conv in self.body:
            if isinstance(conv, nn.Conv2d):
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                nn.init.zeros_(conv.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images * 2 - 1))


@dataclass
class TextEncoderConfig(ModelConfig):
    """The text encoder's sizes (and its training twin's, the image encoder).

    ``embedding_dim`` must equal the StackGAN's ``text_dim`` (1024, the reference's). ``channels``
    and ``image_size`` are those of the training images (the engine checks the dataset against them).

    Example:
        >>> TextEncoderConfig(max_length=96, cnn_dim=128)
    """

    alphabet: str = ALPHABET
    max_length: int = 128
    embedding_dim: int = 1024
    conv_channels: list[int] = field(default_factory=lambda: [128, 256])
    cnn_dim: int = 256
    dropout: float = 0.0
    channels: int = 1
    image_size: int = 28
    image_widths: list[int] = field(default_factory=lambda: [32, 64, 128])
    image_hidden: int = 256


class TextEncoder(TextEmbedder, ZooModel):
    """The trained pair: ``encoder`` (``CharCNNRNN``, what StackGAN uses) and ``image_encoder`` (training only).

    Example:
        >>> model = TextEncoder(TextEncoderConfig())
        >>> model.encode_text(["a thick seven slanting to the right"]).shape
        torch.Size([1, 1024])
        >>> model.compatibility(images, ["a 7", "a 1"]).shape  # θ(v) · φ(t)
        torch.Size([16, 2])
    """

    architecture = "stackgan-text"
    config_class = TextEncoderConfig

    def __init__(self, config: TextEncoderConfig) -> None:
        super().__init__(config)
        for key in ("channels", "image_size", "image_hidden"):
            value = getattr(config, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ZooError(f"The text encoder's {key} must be a positive integer, not {value!r}.")
        self.encoder = CharCNNRNN.from_config(config)
        self.image_encoder = ImageEncoder(
            config.channels, config.image_widths, config.image_hidden, config.embedding_dim
        )

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(θ(images), φ(tokens))``, both ``(n, embedding_dim)`` (what the training step calls)."""
        return self.image_encoder(images), self.encoder(tokens)

    def encode_text(self, texts: str | Sequence[str]) -> torch.Tensor:
        """Embeddings ``(n, embedding_dim)`` of texts (a string is one text), in eval mode without gradients.

        Example:
            >>> model.encode_text("a thin upright two").shape
            torch.Size([1, 1024])
        """
        tokens = self.encoder.tokenize(texts).to(self.device)
        return self.encoder(tokens)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """θ: embeddings ``(n, embedding_dim)`` of images in [0, 1], without gradients.

        Example:
            >>> model.encode_image(torch.rand(4, 1, 28, 28)).shape
            torch.Size([4, 1024])
        """
        c = self.config
        check_images(
            images, channels=c.channels, size=(c.image_size, c.image_size), what="text encoder's image encoder"
        )
        with torch.no_grad():
            return self.image_encoder(images.to(self.device, self.dtype))

    def compatibility(self, images: torch.Tensor, texts: str | Sequence[str]) -> torch.Tensor:
        """``F(v, t) = θ(v) · φ(t)`` for every image and text: ``(n_images, n_texts)``.

        Example:
            >>> model.compatibility(images, ["a 7", "a 1"]).argmax(1)  # which text fits each image
        """
        return self.encode_image(images) @ self.encode_text(texts).T
