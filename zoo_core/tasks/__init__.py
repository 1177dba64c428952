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

Plugins add tasks of their own the same way (the ``register_tasks`` hook: a ``Task`` with its protocol, its
base class and its conformance calls); ``TASKS`` then holds them beside the core's, and nothing in the core
treats them differently. ``TASKS`` loads the plugins the first time a name it lacks is asked for, so a model
module of a plugin task can be imported on its own. ``zoo tasks`` lists them all.

Example:
    >>> from zoo_core.tasks import TASKS, ImageToImage
    >>> TASKS["image-to-image"].verbs, TASKS["image-to-image"].pipeline_tag
    (('translate',), 'image-to-image')
    >>> isinstance(zoo.load("pix2pix.colorize"), ImageToImage)
    True
"""

from __future__ import annotations

import re

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
    "CORE_TASKS",
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
    "add_plugin_task",
    "check_contract",
    "check_plugin_task",
    "check_tasks",
    "forget_plugin_tasks",
    "verb_signature",
]


class _TaskTable(dict):
    """Task name -> ``Task``: the core's tasks, and the plugins' once the catalog has been built.

    A name that is missing makes it build the catalog (whose ``register_tasks`` hooks add the plugins' tasks
    through ``add_plugin_task``) once, and look again.
    """

    #: true while the catalog is being built: its hooks are what adds the plugins' tasks
    building = False

    def _load_plugins(self) -> None:
        if not _TaskTable.building:
            from .._catalog import get_catalog

            get_catalog()

    def __missing__(self, name: str) -> Task:
        self._load_plugins()
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        if dict.__contains__(self, name):
            return True
        self._load_plugins()
        return dict.__contains__(self, name)


#: task name -> its contract; ``TASKS[name].pipeline_tag`` (also ``[1]``) is the Hub pipeline tag
TASKS: dict[str, Task] = _TaskTable(
    (task.name, task)
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
)
CORE_TASKS: frozenset[str] = frozenset(TASKS)

_TASK_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def check_plugin_task(task: object, plugin: str) -> Task:
    """``task`` as registered by ``plugin`` (a well-formed ``Task``), or fail in one sentence.

    Example:
        >>> check_plugin_task(Task("score(x)", "image-classification", AnomalyDetection, "anomaly-detection",
        ...                        "zoo_anogan.tasks:AnomalyDetector", "zoo_anogan.tasks:conformance_calls"), "anogan")
    """
    if not isinstance(task, Task):
        raise ZooError(f"{plugin} registered {task!r}, which is not a zoo_core.Task")
    if not isinstance(task.name, str) or not _TASK_NAME.match(task.name):
        raise ZooError(f"{plugin} registered a task named {task.name!r}; use lower-case words joined by '-'")
    if not isinstance(task.protocol, type):
        raise ZooError(
            f"the task {task.name!r} of {plugin} gives {task.protocol!r} as its contract, not a Protocol class"
        )
    if not task.verbs:
        raise ZooError(f"the task {task.name!r} of {plugin} has a contract without verbs; declare at least one method")
    for field, value in (("base", task.base), ("conformance", task.conformance)):
        if not isinstance(value, str) or ":" not in value:
            raise ZooError(f"the task {task.name!r} of {plugin} gives {field}={value!r}; give 'module:attribute'")
    return task._replace(plugin=plugin)


def add_plugin_task(task: Task) -> None:
    """Put a checked plugin task into ``TASKS`` (the catalog does, for each name its owner keeps)."""
    dict.__setitem__(TASKS, task.name, task)


def forget_plugin_tasks() -> None:
    """Drop the plugins' tasks from ``TASKS`` (when the catalog is reset)."""
    for name in [name for name in dict.keys(TASKS) if name not in CORE_TASKS]:
        dict.__delitem__(TASKS, name)


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
