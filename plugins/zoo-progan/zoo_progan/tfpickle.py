"""Reading the official ProGAN pickles without running any code from them.

The networks released with tkarras/progressive_growing_of_gans (``karras2018iclr-celebahq-1024x1024.pkl``
and the LSUN ones) are ``pickle.dump((G, D, Gs))`` of three ``tfutil.Network`` objects. Unpickled by
their own code, each one's ``__setstate__`` *executes* the Python source stored in the file
(``build_module_src``) and builds a TensorFlow graph. Here nothing is executed:

- the classes of the reference code (module ``tfutil``, or ``network`` in the Theano-era files) become
  inert stubs: an instance only keeps the state the pickle hands it (``{"version": 2, "name", "static_kwargs",
  "build_module_src", "build_func_name", "variables": [(name, numpy array), ...]}``); the source is never run;
- numpy arrays, dtypes and scalars are rebuilt (``numpy.core.multiarray._reconstruct`` / ``scalar``,
  ``numpy.ndarray``, ``numpy.dtype``, ``_codecs.encode`` with the latin-1 codec as protocol 2 writes bytes),
  refusing object arrays; ``collections.OrderedDict`` is a plain container;
- any other global (``os.system``, ``builtins.eval``, ``subprocess.Popen`` ...) is refused before it is
  imported, in one ``ZooError`` sentence, so a malicious file never gets to call anything.

``read_official_pickle(path)`` returns ``{"G": state, "D": state, "Gs": state}`` with each state's
``variables`` as a ``{name: numpy array}`` dict, ready for ``zoo_progan.convert.convert_official``.

Example:
    >>> nets = read_official_pickle("karras2018iclr-celebahq-1024x1024.pkl")
    >>> nets["Gs"]["variables"]["4x4/Dense/weight"].shape
    (512, 8192)
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from zoo_core import ZooError

__all__ = ["NETWORK_NAMES", "STUB_MODULES", "NetworkStub", "SafeUnpickler", "read_official_pickle"]

#: the modules of the reference code whose classes become inert stubs
STUB_MODULES = ("tfutil", "network")
#: the three networks of an official pickle, in the order it stores them
NETWORK_NAMES = ("G", "D", "Gs")


class NetworkStub:
    """An inert stand-in for a class of the reference code: it keeps what it is given and does nothing else.

    Example:
        >>> stub = NetworkStub.__new__(NetworkStub); stub.__setstate__({"variables": []})
        >>> stub.state
        {'variables': []}
    """

    stub_of = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs, self.state = args, kwargs, None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _stub_class(module: str, name: str) -> type[NetworkStub]:
    return type(name, (NetworkStub,), {"stub_of": f"{module}.{name}", "__module__": __name__})


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The numpy callables an array pickle names, wrapped to refuse object arrays and other subtypes."""
    import numpy as np

    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray  # type: ignore[no-redef]

    def reconstruct(subtype: Any, shape: Any, dtype: Any) -> Any:
        if subtype is not np.ndarray:
            raise pickle.UnpicklingError(f"an array of type {subtype!r}, not numpy.ndarray")
        return multiarray._reconstruct(np.ndarray, shape, dtype)

    def scalar(dtype: Any, data: Any = None) -> Any:
        if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
            raise pickle.UnpicklingError("a numpy scalar that is not plain numeric data")
        return multiarray.scalar(dtype, data)

    def make_dtype(spec: Any, align: bool = False, copy: bool = False) -> Any:
        dtype = np.dtype(spec, align, copy)
        if dtype.hasobject:
            raise pickle.UnpicklingError("a numpy dtype of Python objects")
        return dtype

    table: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): make_dtype}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        table[(module, "_reconstruct")] = reconstruct
        table[(module, "scalar")] = scalar
    return table


def _latin1_encode(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as a protocol-2 pickle uses it (bytes written as latin-1 text), and nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode used for something else than bytes")
    return text.encode("latin-1")


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` for the stubs only: an empty stub (``state`` of ``object`` must be ``None``)."""
    if not (isinstance(cls, type) and issubclass(cls, NetworkStub)) or base is not object or state is not None:
        raise pickle.UnpicklingError("copyreg._reconstructor used for something else than a network object")
    return object.__new__(cls)


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and inert stubs only, and refuses every other global.

    ``refused`` holds the first global it refused (``"os.system"``), for the error message.

    Example:
        >>> import io; SafeUnpickler(io.BytesIO(pickle.dumps(np.zeros(3)))).load()
        array([0., 0., 0.])
    """

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.refused: str | None = None
        self._numpy = _numpy_globals()
        self._stubs: dict[tuple[str, str], type[NetworkStub]] = {}

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in self._numpy:
            return self._numpy[key]
        if key == ("_codecs", "encode"):
            return _latin1_encode
        if key == ("copyreg", "_reconstructor"):  # protocols 0 and 1: an object of a stub class
            return _reconstructor
        if key in (("builtins", "object"), ("__builtin__", "object")):
            return object
        if key == ("collections", "OrderedDict"):
            from collections import OrderedDict

            return OrderedDict
        if module in STUB_MODULES and name.isidentifier() and not name.startswith("_"):
            return self._stubs.setdefault(key, _stub_class(module, name))
        self.refused = f"{module}.{name}"
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        self.refused = "a persistent id"
        raise pickle.UnpicklingError("refused persistent id")


def _variables(state: Any, what: str, path: Path) -> dict[str, Any]:
    """The ``variables`` of a network's state as ``{name: numpy array}`` (numeric arrays and scalars only)."""
    import numpy as np

    if not isinstance(state, dict) or not isinstance(state.get("variables"), (list, tuple)):
        raise ZooError(
            f"{path} holds a {what} network without a list of variables, so it is not an official "
            "progressive_growing_of_gans pickle; convert a karras2018iclr-*.pkl file."
        )
    out: dict[str, Any] = {}
    for item in state["variables"]:
        ok = isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)
        value = np.asarray(item[1]) if ok and isinstance(item[1], (np.ndarray, np.generic, float, int)) else None
        if value is None or value.dtype.hasobject or value.dtype.kind not in "fiub":
            raise ZooError(
                f"{path} holds a {what} variable that is not a (name, numeric array) pair, so it is not an official "
                "progressive_growing_of_gans pickle; convert a karras2018iclr-*.pkl file."
            )
        out[item[0]] = value
    return out


def read_official_pickle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The three networks of an official ProGAN pickle, read without running any code from it.

    Returns ``{"G": ..., "D": ..., "Gs": ...}``, each the network's pickled state (a dict) with its
    ``variables`` as ``{name: numpy array}``; ``build_module_src`` is kept as text and never run. Every
    failure is a ``ZooError`` in one sentence: a global other than numpy's array machinery and the reference's
    classes (the file would run code), a file that is not a pickle, or a pickle of something else.

    Example:
        >>> nets = read_official_pickle("karras2018iclr-celebahq-1024x1024.pkl")
        >>> nets["Gs"]["static_kwargs"]["resolution"], nets["Gs"]["build_func_name"]
        (1024, 'G_paper')
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            unpickler = SafeUnpickler(handle)
            try:
                contents = unpickler.load()
            except ZooError:
                raise
            except Exception as exc:  # UnpicklingError, EOFError, ValueError, TypeError from a malformed stream ...
                if unpickler.refused:
                    raise ZooError(
                        f"{path} was refused: unpickling it would import and call {unpickler.refused}, which is "
                        "neither numpy array data nor a class of progressive_growing_of_gans, and zoo never runs "
                        "code from a file; convert the official karras2018iclr-*.pkl file instead."
                    ) from None
                raise ZooError(
                    f"{path} is not a readable pickle of the official ProGAN networks ({type(exc).__name__}: "
                    f"{str(exc)[:200]}); check that it is the karras2018iclr-*.pkl file, or download it again."
                ) from None
    except OSError as exc:
        raise ZooError(f"{path} cannot be read ({exc.strerror or exc}); check the path and its permissions.") from None
    if not (
        isinstance(contents, tuple) and len(contents) == 3 and all(isinstance(net, NetworkStub) for net in contents)
    ):
        raise ZooError(
            f"{path} does not hold the (G, D, Gs) networks of an official progressive_growing_of_gans pickle; "
            "convert a karras2018iclr-*.pkl file."
        )
    nets: dict[str, Any] = {}
    for what, net in zip(NETWORK_NAMES, contents, strict=True):
        state = dict(net.state) if isinstance(net.state, dict) else net.state
        variables = _variables(state, what, path)
        nets[what] = {**state, "variables": variables}
    return nets
