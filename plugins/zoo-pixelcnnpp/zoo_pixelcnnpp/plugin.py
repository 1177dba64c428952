"""The zoo hooks of zoo-pixelcnnpp (no torch here: the model is imported only when built).

Example:
    $ zoo train pixelcnnpp --dataset mnist5k --out runs/pixelcnnpp \\
          --config image_size=28 --config channels=1 --config nr_resnet=1 --config nr_filters=32
    $ zoo convert pixelcnnpp-pclucas14 pcnn_lr.0.00040_nr-resnet5_nr-filters160_889.pth -o hub/me/pixelcnnpp-cifar10
"""

from __future__ import annotations

from zoo_core import Architecture, Converter, hookimpl

#: the paper's CIFAR-10 model, which pclucas14 also released
PAPER_CONFIG = {"image_size": 32, "channels": 3, "nr_resnet": 5, "nr_filters": 160, "nr_logistic_mix": 10}


@hookimpl
def register_architectures(register):
    register(
        Architecture(
            name="pixelcnnpp",
            model="zoo_pixelcnnpp.model:PixelCNNPP",
            tasks=("unconditional", "density"),
            description="PixelCNN++: gated ResNet u / ul streams with a discretised logistic mixture "
            "(openai/pixel-cnn, pclucas14 layout); cached fast sampling.",
            paper="https://arxiv.org/abs/1701.05517",
            training_step="zoo_pixelcnnpp.training:PixelCNNPPTrainingStep",
            # a tiny config for the conformance kit (`zoo plugin check`, zoo_core.testing)
            test_config={"image_size": 8, "channels": 1, "nr_resnet": 1, "nr_filters": 8, "nr_logistic_mix": 2},
        )
    )


@hookimpl
def register_converters(register):
    register(
        Converter(
            "pixelcnnpp-pclucas14",
            architecture="pixelcnnpp",
            convert="zoo_pixelcnnpp.convert:convert_pclucas14",
            source="pclucas14/pixel-cnn-pp checkpoint (torch.save(model.state_dict()), module. prefix)",
            description="A pclucas14/pixel-cnn-pp state dict (weight_g / weight_v, DataParallel's module. "
            "prefix); nr_resnet, nr_filters, nr_logistic_mix and channels are read off its shapes.",
            options={"config": dict(PAPER_CONFIG)},
        )
    )
