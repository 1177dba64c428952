"""docs/plugins.md cannot drift from the code: its Python blocks run, its `zoo` commands parse, its walkthrough works.

- Every ``zoo ...`` line of a bash block is parsed against the command line (commands, options, choices).
- The Python blocks run: a block headed ``# demo_gan/FILE.py`` is that file of the plugin ``zoo plugin new demo-gan``
  writes (``(append)``: added to its end; ``(as written by zoo plugin new)``: each line must be in the generated
  file); the generated plugin is then registered with zoo's plugin manager, and every other block is executed.
- The walkthrough (the first bash block) runs end to end in a shell (slow): ``pip install -e`` is stood in for by a
  ``pip`` function that writes what pip would (a dist-info with the entry point), so nothing enters the venv.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import zoo_env

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "plugins.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
FILE_HEADER = re.compile(r"^# (demo_gan/[\w/]+\.py)(?: \((append|as written by zoo plugin new)\))?\n")


def blocks(language: str) -> list[str]:
    return [code for lang, code in FENCE.findall(DOC.read_text(encoding="utf-8")) if lang == language]


def zoo_lines() -> list[list[str]]:
    """Every `zoo ...` command of the bash blocks, split as the shell splits it (comments dropped)."""
    commands = []
    for code in blocks("bash"):
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "zoo":
                commands.append(words[1:])
    # and the commands quoted in the text, e.g. `zoo push runs/demo-gan/model --repo-id ...` (not the synopses)
    for span in re.findall(r"`(zoo [^`]+)`", FENCE.sub("", DOC.read_text(encoding="utf-8"))):
        if not any(mark in span for mark in ("[", "|", "...")):
            commands.append(shlex.split(span)[1:])
    return commands


def parse(argv: list[str]) -> None:
    """Parse ``zoo ARGV`` as click would, without running it: unknown commands, options and choices fail."""
    from zoo_core.cli import cli

    command: click.Command = cli
    args = list(argv)
    path = ["zoo"]
    while isinstance(command, click.Group):
        assert args, f"`{' '.join(path)}` needs a command"
        name = args.pop(0)
        group = command
        subcommand = group.get_command(click.Context(group), name)  # the root group imports its commands on use
        assert subcommand is not None, f"`{' '.join(path)}` has no command {name!r}"
        command = subcommand
        path.append(name)
    if not args and argv[-1] == path[-1]:  # a command named in the text (`zoo train`): it exists
        return
    ctx = click.Context(command, info_name=" ".join(path))
    opts, extra, _ = command.make_parser(ctx).parse_args(args)  # NoSuchOption for a misspelt option
    assert not extra, f"`{' '.join(path)}` takes no argument {extra[0]!r}"
    for argument in (p for p in command.params if isinstance(p, click.Argument) and p.required):
        value = opts.get(argument.name)  # a str, a tuple for nargs=-1; missing: None or click's UNSET sentinel
        given = isinstance(value, str) or (isinstance(value, tuple) and len(value) > 0)
        assert given, f"`{' '.join(path)}` needs {argument.human_readable_name}"
    for param in command.params:
        if isinstance(param.type, click.Choice) and param.name in opts:
            param.type.convert(opts[param.name], param, ctx)


def test_docs_hold_the_walkthrough_and_every_hook() -> None:
    text = DOC.read_text(encoding="utf-8")
    from zoo_core import hookspecs

    hooks = [name for name in dir(hookspecs) if name.startswith("register_")]
    for hook in hooks:
        assert f"### `{hook}`" in text, f"docs/plugins.md does not explain the hook {hook}"
    assert len(zoo_lines()) >= 8


@pytest.mark.parametrize("argv", zoo_lines(), ids=lambda argv: " ".join(argv[:2]))
def test_every_zoo_command_of_the_docs_parses(argv: list[str]) -> None:
    parse(argv)


def test_the_parser_check_can_fail() -> None:
    with pytest.raises(click.NoSuchOption):
        parse(["plugin", "new", "demo-gan", "--taks", "unconditional"])
    with pytest.raises(AssertionError, match="no command"):
        parse(["plugin", "chek", "x"])
    with pytest.raises(AssertionError, match="needs NAME"):
        parse(["plugin", "new", "--task", "unconditional"])
    with pytest.raises(click.BadParameter):
        parse(["plugin", "new", "demo-gan", "--task", "density"])


def test_the_python_blocks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo_core._catalog import reset_catalog
    from zoo_core._plugins import get_plugin_manager
    from zoo_core.scaffold import write_plugin

    folder = write_plugin("demo-gan", task="unconditional", directory=tmp_path / "demo-gan")
    runnable = []
    for code in blocks("python"):
        header = FILE_HEADER.match(code)
        if not header:
            runnable.append(code)
            continue
        target, how = folder / header.group(1), header.group(2)
        body = code[header.end() :]
        if how == "as written by zoo plugin new":
            written = target.read_text(encoding="utf-8")
            for line in body.splitlines():
                assert line.strip() in written, f"{header.group(1)} no longer holds {line.strip()!r}"
        elif how == "append":
            target.write_text(target.read_text(encoding="utf-8") + "\n\n" + body, encoding="utf-8")
        else:
            target.write_text(body, encoding="utf-8")
    assert len(runnable) >= 8

    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.chdir(tmp_path)
    try:
        plugin = importlib.import_module("demo_gan.plugin")
        get_plugin_manager().register(plugin, name="demo-gan")
        reset_catalog()
        for index, code in enumerate(runnable):
            try:
                exec(compile(code, f"docs/plugins.md python block {index + 1}", "exec"), {"__name__": "__docs__"})
            except Exception as exc:
                raise AssertionError(f"python block {index + 1} of docs/plugins.md failed:\n{code}") from exc
    finally:
        for name in [m for m in sys.modules if m == "demo_gan" or m.startswith("demo_gan.")]:
            del sys.modules[name]


PIP_STANDIN = r"""
pip() {  # what `pip install -e FOLDER` leaves behind that zoo reads: a dist-info with the entry points
    [ "$1" = install ] && [ "$2" = -e ] || { echo "the docs test only stands in for pip install -e" >&2; return 2; }
    python - "$3" "$ZOO_DOCS_SITE" <<'PY'
import sys, tomllib
from pathlib import Path
folder, site = Path(sys.argv[1]), Path(sys.argv[2])
project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
info = site / (project["name"].replace("-", "_") + "-" + project["version"] + ".dist-info")
info.mkdir(parents=True)
(info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
points = "".join(f"{k} = {v}\n" for k, v in project["entry-points"]["zoo"].items())
(info / "entry_points.txt").write_text("[zoo]\n" + points)
PY
}
set -euo pipefail
"""


@pytest.mark.slow
def test_the_walkthrough_runs_end_to_end(tmp_path: Path) -> None:
    walkthrough = blocks("bash")[0]
    assert "zoo plugin new demo-gan" in walkthrough and "zoo registry add" in walkthrough
    shipped = REPO / "registry.json"
    before = hashlib.sha256(shipped.read_bytes()).hexdigest()
    work = tmp_path / "empty"
    work.mkdir()
    env = zoo_env(tmp_path / "home")
    env["ZOO_DOCS_SITE"] = str(tmp_path / "site")
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), str(work / "demo-gan")])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(
        ["bash", "-c", PIP_STANDIN + walkthrough],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    out = result.stdout
    assert "ok       training-step" in out and "FAILED" not in out
    listed = [line.split()[0] for line in out.splitlines() if line and line.split()[0].count(".") == 1]
    assert "demo-gan.mnist" in listed and "vae.mnist" in listed and "dcgan.mnist" in listed
    assert (work / "my-catalog.json").is_file()
    assert '"demo-gan.mnist"' in (work / "my-catalog.json").read_text()
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == before  # the shipped catalog is untouched
