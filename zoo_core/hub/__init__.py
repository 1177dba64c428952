"""Weights from the Hugging Face Hub (or a mirror, a local folder, or their authors' own address), verified.

One module per job, from what ``zoo.load`` calls down to what it stands on:

- ``weights``: a registry entry's weights, ready to load (``fetch_weights``): ``ZOO_HUB_DIR`` (a path list),
  the caches or a download; checked against their sha256; a foreign pickle converted once to safetensors.
- ``download``: a file of a Hub repository, downloaded into the Hugging Face cache (``download_file``).
- ``urls``: a resumable download from a plain http(s) address (``download_url``).
- ``pins``: the sha256 pinned on the first download of upstream weights the registry has no hash for.
- ``verify``: sha256 checks, and the record of verified files that spares re-hashing an untouched file.
- ``network``: timeouts, deadline, retries and size cap of every request (and their environment variables).
- ``cache``: where the caches are, and ``zoo cache prune``'s cleaning of interrupted downloads.

Importing this package imports neither torch nor huggingface_hub; each function imports what it needs.

Example:
    >>> from zoo_core.hub.weights import fetch_weights
    >>> fetch_weights(zoo.info("vae.mnist"))
    PosixPath('.../snapshots/.../model.safetensors')
"""
