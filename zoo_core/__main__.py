"""``python -m zoo_core`` is the ``zoo`` command."""

from .cli import main

main()
