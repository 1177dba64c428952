"""The structure that shows the design: no import cycles, one reader of foreign checkpoints, one table of
generator names, ``ZOO_HUB_DIR`` as a path list, and a documented public API."""

from __future__ import annotations

import ast
import functools
import inspect
import os
from pathlib import Path

import pytest
import torch

import zoo_core as zoo
from zoo_core.checkpoints import add_batch_counters, plain_state_dict
from zoo_core.hub.weights import fetch_weights, hub_dirs, local_hub_file

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / "zoo_core"


# -- import cycles ------------------------------------------------------------------------------------
def _modules() -> dict[str, tuple[Path, bool]]:
    """zoo_core's modules by dotted name: (file, is a package)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _imports(nodes: list[ast.stmt], *, nested: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements among ``nodes``: those run at import time (``nested``: every one, in functions too);
    ``if TYPE_CHECKING:`` blocks never run."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in nodes:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if nested or isinstance(node, ast.ClassDef):
                found += _imports(node.body, nested=nested)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    found += _imports([c for c in children if isinstance(c, ast.stmt)], nested=nested)
                    for handler in children:
                        if isinstance(handler, ast.ExceptHandler):
                            found += _imports(handler.body, nested=nested)
    return found


@functools.cache
def import_graph(*, nested: bool) -> dict[str, set[str]]:
    """Which zoo_core modules each zoo_core module imports (module-level only unless ``nested``).

    With ``nested``, ``from zoo_core import __version__``-style imports of the package itself are left out:
    the package's own ``__init__`` is the public API on top of everything.
    """
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, package) in modules.items():
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")).body, nested=nested):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = name.split(".") if package else name.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not (nested and target == "zoo_core"):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_zoo_core_has_no_import_cycle_at_import_time() -> None:
    graph = import_graph(nested=False)
    assert {"zoo_core.hub.weights", "zoo_core.checkpoints.reader", "zoo_core._factory"} <= set(graph)
    assert "zoo_core.hub.cache" in graph["zoo_core.hub.verify"]  # the graph sees relative imports
    assert cycles(graph) == []


@pytest.mark.parametrize("layer", ["zoo_core.hub", "zoo_core.checkpoints", "zoo_core._factory", "zoo_core.layers"])
def test_loading_stands_on_hub_and_checkpoints_without_a_cycle_even_in_functions(layer: str) -> None:
    """``_factory -> hub -> checkpoints`` is one way: neither layer below imports the one above, lazily or not."""
    graph = import_graph(nested=True)
    assert "zoo_core.checkpoints" in graph["zoo_core.hub.weights"]  # function-level imports are seen
    tangled = [c for c in cycles(graph) if any(m == layer or m.startswith(f"{layer}.") for m in c)]
    assert tangled == []


def test_the_old_modules_are_gone() -> None:
    for old in ("_hub", "_verify", "_network", "convert"):
        assert not (PACKAGE / f"{old}.py").exists()


# -- the public API ------------------------------------------------------------------------------------
def test_every_public_name_exists_and_is_documented() -> None:
    assert len(zoo.__all__) == len(set(zoo.__all__))
    for name in zoo.__all__:
        value = getattr(zoo, name)  # lazy names resolve too
        if name.startswith("__"):
            continue
        doc = inspect.getdoc(value)
        assert doc and len(doc.split()) >= 3, f"zoo_core.{name} has no docstring"
    for name in ("load", "create", "list_models", "info", "evaluate", "ZooModel", "ModelConfig", "hookimpl"):
        assert name in zoo.__all__
    errors = [name for name in zoo.__all__ if isinstance(getattr(zoo, name), type) and name.endswith("Error")]
    assert all(issubclass(getattr(zoo, name), zoo.ZooError) for name in errors) and len(errors) >= 5


# -- one reader of foreign checkpoints -----------------------------------------------------------------
def test_plain_state_dict_unwraps_strips_and_renames() -> None:
    w = torch.ones(2)
    assert plain_state_dict({"state_dict": {"module.conv.weight": w}, "epoch": 3}, what="X", fix="f") == {
        "conv.weight": w
    }
    assert list(plain_state_dict({"model": {"_orig_mod.module.a": w}}, what="X", fix="f")) == ["a"]
    assert list(plain_state_dict({"module.a": w}, what="X", fix="f", strip=())) == ["module.a"]
    assert list(plain_state_dict({"a.b": w}, what="X", fix="f", rename=str.upper)) == ["A.B"]


@pytest.mark.parametrize(
    ("checkpoint", "message"),
    [
        ([1, 2], r"^The X checkpoint is not a state dict of tensors \(it holds a list\); convert X's file\.$"),
        ({}, r"\(it is empty\)"),
        ({"state_dict": {}}, r"\(it is empty\)"),
        ({"a": torch.ones(1), "b": 3}, r"^The X checkpoint holds 'b', which is not a tensor, .*; convert X's file\.$"),
    ],
)
def test_plain_state_dict_refuses_what_is_not_a_state_dict_in_one_sentence(checkpoint: object, message: str) -> None:
    with pytest.raises(zoo.ZooError, match=message):
        plain_state_dict(checkpoint, what="X", fix="convert X's file")


def test_add_batch_counters_adds_the_missing_ones_only() -> None:
    state = {"bn.weight": torch.ones(1), "bn.running_var": torch.ones(1), "inorm.running_var": torch.ones(1)}
    state["done.running_var"], state["done.num_batches_tracked"] = torch.ones(1), torch.tensor(7)
    every = add_batch_counters(state)
    assert {k for k in every if k.endswith("num_batches_tracked")} == {
        "bn.num_batches_tracked",
        "inorm.num_batches_tracked",
        "done.num_batches_tracked",
    }
    assert int(every["bn.num_batches_tracked"]) == 0 and int(every["done.num_batches_tracked"]) == 7
    affine = add_batch_counters(state, affine_only=True)
    assert "inorm.num_batches_tracked" not in affine and "bn.num_batches_tracked" in affine


def test_every_plugin_converter_uses_the_one_reader() -> None:
    for convert in sorted(REPO_ROOT.glob("plugins/*/zoo_*/convert.py")):
        text = convert.read_text(encoding="utf-8")
        assert "from zoo_core.checkpoints import" in text and "plain_state_dict" in text, convert
        assert 'checkpoint.get("state_dict")' not in text, f"{convert} unwraps checkpoints itself"


# -- one table of generator / discriminator names ------------------------------------------------------
def test_one_table_of_generators_for_every_plugin() -> None:
    from zoo_core.layers import GENERATORS, define_generator, generator_name, parse_generator

    assert parse_generator("resnet_4blocks").size_multiple == 4
    assert [parse_generator(n).size_multiple for n in ("unet_256", "unet_128", "unet_64", "unet_32")] == [
        256,
        128,
        64,
        32,
    ]
    for name in GENERATORS:
        spec = parse_generator(name)
        assert generator_name(spec.kind, spec.depth) == name == spec.name
    assert type(define_generator("resnet_2blocks", 3, 3, 4)).__name__ == "ResnetGenerator"
    assert type(define_generator("unet_32", 3, 3, 4)).__name__ == "UnetGenerator"
    with pytest.raises(zoo.ZooError, match=r"^Unknown pix2pix generator 'unet_512'; choose one of resnet_9blocks"):
        parse_generator("unet_512", model="pix2pix")
    with pytest.raises(zoo.ZooError, match=r"^A CycleGAN ResNet generator has from 1 to 64 blocks, not 0"):
        parse_generator("resnet_0blocks", model="CycleGAN")
    for plugin in ("zoo-cyclegan/zoo_cyclegan", "zoo-pix2pix/zoo_pix2pix"):
        for path in (REPO_ROOT / "plugins" / plugin).glob("*.py"):
            assert '"unet_256": 8' not in path.read_text(encoding="utf-8"), f"{path} keeps its own table"


# -- ZOO_HUB_DIR is a path list ------------------------------------------------------------------------
def test_zoo_hub_dir_is_a_path_list_where_the_first_folder_holding_the_file_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    info = zoo.info("vae.mnist")
    relative = Path(info.weights["repo_id"]) / info.weights["filename"]
    shipped, empty, mine = REPO_ROOT / "hub", tmp_path / "empty", tmp_path / "mine"
    empty.mkdir()
    (mine / relative).parent.mkdir(parents=True)
    (mine / relative).write_bytes(b"not the published weights")

    monkeypatch.setenv("ZOO_HUB_DIR", os.pathsep.join([str(empty), "", str(shipped)]))
    assert hub_dirs() == [empty, shipped]  # empty items are skipped
    assert local_hub_file(info) == shipped / relative  # the first folder lacks it: the next one that holds it
    assert fetch_weights(info) == shipped / relative  # and it is verified

    monkeypatch.setenv("ZOO_HUB_DIR", os.pathsep.join([str(mine), str(shipped)]))
    assert local_hub_file(info) == mine / relative  # the first folder that holds it wins, even a bad copy
    with pytest.raises(zoo.ChecksumMismatchError, match="failed their sha256 check"):
        fetch_weights(info)
    assert (mine / relative).is_file()  # a file of the user's is refused, never deleted

    monkeypatch.setenv("ZOO_HUB_DIR", str(empty))
    assert local_hub_file(info) is None
