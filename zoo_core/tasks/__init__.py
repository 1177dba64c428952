"""The tasks a model can serve: each is a contract (a ``typing.Protocol``) and a Hugging Face pipeline tag.

No torch here: ``zoo list`` reads ``TASKS`` and an ``Architecture`` checks its task names without it.

Why protocols: a contract says what the core may call (exact verb signatures) and read (attributes),
and nothing about how. Any object that has them fulfils it (``isinstance(model, ImageToImage)``,
runtime-checkable), and type checkers check callers such as ``zoo_core.translate`` against it. The
implementation helpers are the task base classes in ``zoo_core.modeling`` (``UnconditionalGenerator``,
``ImageTranslator`` ...): a ``ZooModel`` mixes them in, and gets the model hygiene (eval mode,
``torch.inference_mode()``, seeding) on every contract verb. A model class is checked against the
contracts of its tasks when it is defined (``check_contract``), and again when the catalog resolves an
architecture's model class: a task declared without one of its verbs or attributes is refused in one
sentence naming it.

Example:
    >>> from zoo_core.tasks import TASKS, ImageToImage
    >>> TASKS["image-to-image"].verbs, TASKS["image-to-image"].pipeline_tag
    (('translate',), 'image-to-image')
    >>> isinstance(zoo.load("pix2pix.colorize"), ImageToImage)
    True
"""

from __future__ import annotations

from .._errors import ZooError
from ._contract import Task, abstract_verb, check_contract, verb_signature
from .classification import Classification
from .density import Density
from .image_to_image import ImageToImage
from .latent import Latent
from .text_embedding import TextEmbedding
from .text_to_image import TextToImage
from .unconditional import Unconditional

__all__ = [
    "TASKS",
    "Classification",
    "Density",
    "ImageToImage",
    "Latent",
    "Task",
    "TextEmbedding",
    "TextToImage",
    "Unconditional",
    "abstract_verb",
    "check_contract",
    "check_tasks",
    "verb_signature",
]

#: task name -> its contract; ``TASKS[name].pipeline_tag`` (also ``[1]``) is the Hub pipeline tag
TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            "sample(n, *, seed, progress)",
            "unconditional-image-generation",
            Unconditional,
            "unconditional",
            "UnconditionalGenerator",
        ),
        Task(
            "translate(x, *, direction, seed, progress)",
            "image-to-image",
            ImageToImage,
            "image-to-image",
            "ImageTranslator",
        ),
        Task(
            "sample(n, *, text, embedding, seed)", "text-to-image", TextToImage, "text-to-image", "TextToImageGenerator"
        ),
        Task("log_prob(x), bits_per_dim(x)", "unconditional-image-generation", Density, "density", "DensityModel"),
        Task("encode(x), decode(z)", "feature-extraction", Latent, "latent", "LatentModel"),
        Task("classify(x), features(x)", "image-classification", Classification, "classification", "ImageClassifier"),
        Task("encode_text(texts)", "feature-extraction", TextEmbedding, "text-embedding", "TextEmbedder"),
    )
}


def check_tasks(tasks: list[str] | tuple[str, ...], owner: str) -> tuple[str, ...]:
    """Return ``tasks`` as a tuple, or fail naming the first unknown task.

    Example:
        >>> check_tasks(["unconditional", "latent"], "Architecture 'vae'")
        ('unconditional', 'latent')
    """
    if isinstance(tasks, str) or not isinstance(tasks, (list, tuple)):
        raise ZooError(f"{owner} declares its tasks as {tasks!r}; give a list of task names, e.g. ['unconditional'].")
    for task in tasks:
        if task not in TASKS:
            raise ZooError(f"{owner} declares the unknown task {task!r}; known tasks: {', '.join(TASKS)}.")
    return tuple(tasks)
