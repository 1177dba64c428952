"""The zoo ``stackgan`` model: stage I or stage II of hanzhanggit/StackGAN-Pytorch, with an optional text encoder.

State-dict keys: ``generator.*`` is the reference's ``netG`` (``STAGE1_G`` or ``STAGE2_G``,
the latter with its frozen ``STAGE1_G.*``), ``discriminator.*`` its ``netD`` (when
``with_discriminator``), ``text_encoder.*`` the char-CNN-RNN that turns captions into the
1024-d embeddings the generator takes (when ``text_encoder`` names its config). A model
converted from the reference's checkpoints has neither a discriminator nor a text encoder: it
is fed precomputed embeddings (``sample(n, embedding=...)``), as the reference's sampler is.

Sampling follows the reference's ``GANTrainer.sample``: noise z ~ N(0, I) and the
conditioning augmentation's eps ~ N(0, I) are drawn at test time too (c is sampled around mu,
not set to mu); here they come from one seeded CPU generator, z first, then stage I's eps,
then (stage II) stage II's eps, for each batch of at most ``sample_batch_size`` images.

Example:
    >>> model = zoo.create("stackgan", stage=1, channels=1, stage1_size=32, gf_dim=8, df_dim=8)
    >>> model.eval().sample(4, embedding=torch.randn(1024), seed=0).shape
    torch.Size([4, 1, 32, 32])
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from zoo_core import ZooError
from zoo_core.modeling import ModelConfig, TextToImageGenerator, ZooModel, check_count, seeded_generator

from .networks import (
    Stage1Discriminator,
    Stage1Generator,
    Stage2Discriminator,
    Stage2Generator,
    check_sizes,
    weights_init,
)

__all__ = ["StackGAN", "StackGANConfig"]

_POSITIVE = ("channels", "z_dim", "text_dim", "condition_dim", "gf_dim", "df_dim", "r_num")


@dataclass
class StackGANConfig(ModelConfig):
    """StackGAN hyper-parameters; the defaults are the reference's COCO models (``cfg/coco_s1.yml``, ``coco_s2.yml``).

    - ``stage``: 1 (``STAGE1_G`` / ``STAGE1_D``) or 2 (``STAGE2_G`` around a frozen stage I, ``STAGE2_D``).
    - ``channels`` (3; 1 for grey digits), ``z_dim`` (``Z_DIM`` 100), ``text_dim`` (``TEXT.DIMENSION``
      1024), ``condition_dim`` (``GAN.CONDITION_DIM`` 128), ``gf_dim`` / ``df_dim`` (``GAN.GF_DIM`` 192 /
      ``GAN.DF_DIM`` 96 for COCO; stage I's generator is 8 gf_dim wide), ``r_num`` (``GAN.R_NUM``, stage
      II's residual blocks: 2 for COCO).
    - ``stage1_size`` (64) and ``stage2_size`` (256): image sides; see ``zoo_stackgan.networks`` for
      other sizes (ours: 32 and 64).
    - ``with_discriminator``: False holds the generator alone (a converted ``netG_epoch_N.pth``).
    - ``text_encoder``: the config dict of a ``zoo_stackgan.text_encoder.TextEncoderConfig``: the model
      then holds ``text_encoder.*`` and takes ``sample(n, text=...)``; None: embeddings only.

    Example:
        >>> StackGANConfig(stage=2, channels=1, stage1_size=32, stage2_size=64, gf_dim=16, df_dim=8)
    """

    stage: int = 1
    channels: int = 3
    z_dim: int = 100
    text_dim: int = 1024
    condition_dim: int = 128
    gf_dim: int = 192
    df_dim: int = 96
    r_num: int = field(default=2, metadata={"range": (1, 64)})  # stage II residual blocks
    stage1_size: int = 64
    stage2_size: int = 256
    with_discriminator: bool = True
    text_encoder: dict[str, Any] | None = None


def _text_encoder_module(config: dict[str, Any] | ModelConfig) -> nn.Module:
    from .text_encoder import CharCNNRNN, TextEncoderConfig

    if not isinstance(config, TextEncoderConfig):
        if not isinstance(config, dict):
            raise ZooError(f"StackGAN text_encoder must be a text encoder's config dict or None, not {config!r}.")
        config = TextEncoderConfig.from_dict(dict(config), "the StackGAN's text_encoder")
    return CharCNNRNN.from_config(config)


class StackGAN(ZooModel, TextToImageGenerator):
    """StackGAN (Zhang et al. 2017): ``generator`` (stage I or II), optional ``discriminator`` and ``text_encoder``.

    ``sample(n, text=... | embedding=..., seed=...)`` draws ``(n, C, S, S)`` images in [0, 1]
    (S = ``stage1_size`` or ``stage2_size``); ``embed_text(texts)`` gives the embeddings.

    Example:
        >>> gan = zoo.load("stackgan.mnist")
        >>> gan.sample(8, text="a thick seven slanting to the right", seed=0).shape
        torch.Size([8, 1, 64, 64])
    """

    architecture = "stackgan"
    config_class = StackGANConfig
    #: how many images one forward pass draws
    sample_batch_size: ClassVar[int] = 256

    def __init__(self, config: StackGANConfig) -> None:
        super().__init__(config)
        if config.stage not in (1, 2) or isinstance(config.stage, bool):
            raise ZooError(f"StackGAN stage must be 1 or 2, not {config.stage!r}.")
        for key in _POSITIVE:
            value = getattr(config, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "r_num" else 1):
                raise ZooError(f"StackGAN {key} must be a positive integer, not {value!r}.")
        check_sizes(config.stage1_size, config.stage2_size if config.stage == 2 else None)
        c = config
        # the reference's trainer: netG built, netG.apply(weights_init), then netD built and initialised
        stage1 = Stage1Generator(
            z_dim=c.z_dim,
            condition_dim=c.condition_dim,
            text_dim=c.text_dim,
            gf_dim=c.gf_dim,
            channels=c.channels,
            image_size=c.stage1_size,
        )
        if c.stage == 1:
            self.generator: nn.Module = stage1
        else:
            self.generator = Stage2Generator(
                stage1,
                gf_dim=c.gf_dim,
                condition_dim=c.condition_dim,
                text_dim=c.text_dim,
                r_num=c.r_num,
                channels=c.channels,
                stage1_size=c.stage1_size,
                image_size=c.stage2_size,
            )
        self.generator.apply(weights_init)
        self.discriminator: nn.Module | None = None
        if c.with_discriminator:
            if c.stage == 1:
                self.discriminator = Stage1Discriminator(
                    df_dim=c.df_dim, condition_dim=c.condition_dim, channels=c.channels, image_size=c.stage1_size
                )
            else:
                self.discriminator = Stage2Discriminator(
                    df_dim=c.df_dim, condition_dim=c.condition_dim, channels=c.channels, image_size=c.stage2_size
                )
            self.discriminator.apply(weights_init)
        self.text_encoder: nn.Module | None = None
        if c.text_encoder is not None:
            self.text_encoder = _text_encoder_module(c.text_encoder)
            dim = getattr(self.text_encoder, "embedding_dim", c.text_dim)
            if dim != c.text_dim:
                raise ZooError(
                    f"The text encoder gives {dim}-d embeddings but this StackGAN takes {c.text_dim}-d ones."
                )

    # -- what it is ------------------------------------------------------------------------
    @property
    def image_size(self) -> int:
        """The side of the images it draws (and its discriminator takes)."""
        return self.config.stage1_size if self.config.stage == 1 else self.config.stage2_size

    def train(self, mode: bool = True) -> StackGAN:
        super().train(mode)
        if self.text_encoder is not None:
            self.text_encoder.eval()  # never trained here: it is trained on its own (stackgan-text)
        return self

    def attach_text_encoder(self, config: dict[str, Any] | ModelConfig, encoder: nn.Module) -> None:
        """Hold a copy of ``encoder`` (a ``CharCNNRNN`` of ``config``) as ``text_encoder``, frozen, on this model's
        device, and record its config in ``config.text_encoder`` (so that the saved model rebuilds it).

        Example:
            >>> te = zoo.load("runs/stackgan-text/model")
            >>> gan.attach_text_encoder(te.config, te.encoder)
        """
        values = config.to_dict() if isinstance(config, ModelConfig) else dict(config)
        module = _text_encoder_module(values)
        try:
            module.load_state_dict(copy.deepcopy(encoder.state_dict()), strict=True)
        except RuntimeError as exc:
            raise ZooError(f"The text encoder's weights do not fit its config: {str(exc).splitlines()[0]}") from exc
        dim = values.get("embedding_dim")
        if dim is not None and dim != self.config.text_dim:
            raise ZooError(
                f"The text encoder gives {dim}-d embeddings but this StackGAN takes {self.config.text_dim}-d ones."
            )
        module.requires_grad_(False)
        self.text_encoder = module.to(self.device).eval()
        self.config.text_encoder = values

    # -- verbs -----------------------------------------------------------------------------
    def embed_text(self, texts: list[str]) -> torch.Tensor:
        """``(len(texts), text_dim)`` embeddings of captions, by the model's (frozen) text encoder; no gradients.

        Example:
            >>> gan.embed_text(["a wide zero", "a thin one"]).shape
            torch.Size([2, 1024])
        """
        if self.text_encoder is None:
            raise ZooError(
                f"This StackGAN takes {self.config.text_dim}-d char-CNN-RNN embeddings (sample(n, embedding=...)); "
                "it carries no text encoder, so it cannot read text (a converted reference checkpoint has none)."
            )
        if isinstance(texts, str) or not isinstance(texts, (list, tuple)) or not texts:
            raise ZooError(f"embed_text takes a non-empty list of strings, not {texts!r}.")
        if not all(isinstance(t, str) for t in texts):
            bad = next(t for t in texts if not isinstance(t, str))
            raise ZooError(f"embed_text takes strings; got {type(bad).__name__} {bad!r}.")
        with torch.no_grad():  # the encoder is frozen: StackGAN trains on its embeddings as the reference's data
            embeddings = self.text_encoder.encode(list(texts))
        return embeddings.to(self.device, self.dtype)

    def _embeddings(self, n: int, text: Any, embedding: Any, texts: Any = None) -> torch.Tensor | None:
        """The ``(n, text_dim)`` conditioning of ``sample``, from exactly one of ``text`` and ``embedding``.

        ``texts``: a list of ``n`` captions, only checked here (``sample`` embeds them batch by batch); None is
        returned for them.
        """
        dim = self.config.text_dim
        if sum(x is not None for x in (text, embedding, texts)) != 1:
            raise ZooError(
                "StackGAN sample takes exactly one of text=... (a caption or a list of n captions) and "
                f"embedding=... ({dim}-d text embeddings)."
            )
        if texts is not None:
            if len(texts) != n:
                raise ZooError(
                    f"StackGAN sample got {len(texts)} captions for {n} images; "
                    f"give a list of {n}, or one string for all."
                )
            if not all(isinstance(t, str) for t in texts):
                bad = next(t for t in texts if not isinstance(t, str))
                raise ZooError(f"StackGAN sample takes captions as strings; got {type(bad).__name__} {bad!r}.")
            self.embed_text(list(texts[:1]))  # no text encoder: say so before anything is drawn
            return None
        if text is not None:
            if isinstance(text, str):
                return self.embed_text([text]).expand(n, -1)
            raise ZooError(f"StackGAN sample takes text as a string or a list of strings, not {type(text).__name__}.")
        if not isinstance(embedding, torch.Tensor):
            raise ZooError(f"StackGAN sample takes embedding as a tensor, not {type(embedding).__name__}.")
        shape = tuple(embedding.shape)
        if shape == (dim,):
            embedding = embedding[None]
        if embedding.dim() != 2 or embedding.shape[1] != dim or embedding.shape[0] not in (1, n):
            raise ZooError(
                f"StackGAN sample takes embeddings shaped ({dim},), (1, {dim}) or ({n}, {dim}) for n={n}, got {shape}."
            )
        if not embedding.is_floating_point() or not torch.isfinite(embedding).all():
            raise ZooError("StackGAN sample takes finite floating-point embeddings.")
        return embedding.to(self.device, self.dtype).expand(n, -1)

    def generate(
        self,
        embedding: torch.Tensor,
        noise: torch.Tensor,
        eps: torch.Tensor | None = None,
        stage1_eps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Images in [0, 1] for ``(N, text_dim)`` embeddings, ``(N, z_dim)`` noise and the CA noise (stage I's
        ``eps``; stage II: ``stage1_eps`` for its frozen stage I, ``eps`` for its own)."""
        c = self.config
        if embedding.dim() != 2 or embedding.shape[1] != c.text_dim:
            raise ZooError(
                f"The StackGAN generator takes embeddings shaped (N, {c.text_dim}), not {tuple(embedding.shape)}."
            )
        if tuple(noise.shape) != (embedding.shape[0], c.z_dim):
            raise ZooError(
                f"The StackGAN generator takes noise shaped ({embedding.shape[0]}, {c.z_dim}), "
                f"not {tuple(noise.shape)}."
            )
        if c.stage == 1:
            _, images, _, _ = self.generator(embedding, noise, eps)
        else:
            _, images, _, _ = self.generator(embedding, noise, eps, stage1_eps)
        return (images + 1) / 2

    def sample(
        self,
        n: int,
        *,
        text: str | list[str] | None = None,
        embedding: torch.Tensor | None = None,
        seed: int | None = None,
        progress: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` images for a caption (``text``: one for all, or a list of ``n``) or for text embeddings
        (``embedding``: ``(text_dim,)``, ``(1, text_dim)`` or ``(n, text_dim)``); floats in [0, 1], ``(n, C, S, S)``.

        The same seed gives the same images; ``generator`` (a CPU ``torch.Generator``) replaces the seed
        when one stream must run across calls, as ``zoo eval`` draws one image per caption of a dataset.

        Example:
            >>> gan.sample(16, text="a thick seven slanting to the right", seed=0).shape
            torch.Size([16, 1, 64, 64])
        """
        check_count(n)
        from tqdm.auto import tqdm

        c = self.config
        generator = generator if generator is not None else seeded_generator(seed)
        chunks = []
        per_image = isinstance(text, (list, tuple))  # captions are embedded batch by batch
        conditions = self._embeddings(n, None if per_image else text, embedding, texts=text if per_image else None)
        starts = list(range(0, n, self.sample_batch_size))
        for start in tqdm(starts, desc="sampling", unit="batch", disable=not progress or len(starts) < 2):
            size = min(self.sample_batch_size, n - start)
            draw = [torch.randn(size, c.z_dim, generator=generator)]
            draw += [torch.randn(size, c.condition_dim, generator=generator) for _ in range(c.stage)]
            noise, *eps = (t.to(self.device, self.dtype) for t in draw)
            batch = list(text[start : start + size]) if per_image else None
            condition = self.embed_text(batch) if batch is not None else conditions[start : start + size]
            if c.stage == 1:
                images = self.generate(condition, noise, eps[0])
            else:
                images = self.generate(condition, noise, eps[1], stage1_eps=eps[0])
            chunks.append(images.float().clamp_(0, 1))
        return torch.cat(chunks)
