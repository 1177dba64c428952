"""torch.hub entry points: ``torch.hub.load("<this repo>", "load", "vae.mnist")``."""

dependencies = ["torch", "safetensors", "huggingface_hub", "pluggy", "click", "jsonschema"]

from zoo_core import create, list_models, load  # noqa: E402, F401
