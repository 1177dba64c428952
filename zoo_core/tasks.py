"""The tasks a model can serve, and the Hugging Face pipeline tag each maps to (no torch here)."""

from __future__ import annotations

__all__ = ["TASKS", "check_tasks"]

from ._errors import ZooError

#: task name -> (the verbs a model of that task exposes, the Hub pipeline tag)
TASKS: dict[str, tuple[str, str]] = {
    "unconditional": ("sample(n, seed=...)", "unconditional-image-generation"),
    "image-to-image": ("translate(x)", "image-to-image"),
    "text-to-image": ("sample(n, text=...)", "text-to-image"),
    "density": ("log_prob(x), bits_per_dim(x)", "unconditional-image-generation"),
    "latent": ("encode(x), decode(z)", "feature-extraction"),
    "classification": ("classify(x), features(x)", "image-classification"),
    "text-embedding": ("encode_text(texts)", "feature-extraction"),
}


def check_tasks(tasks: list[str] | tuple[str, ...], owner: str) -> tuple[str, ...]:
    """Return ``tasks`` as a tuple, or fail naming the first unknown task."""
    for task in tasks:
        if task not in TASKS:
            raise ZooError(f"{owner} declares the unknown task {task!r}; known tasks: {', '.join(TASKS)}.")
    return tuple(tasks)
