"""The ``zoo`` command line.

Exit codes: 0 success, 1 failure (one sentence on stderr, no traceback), 2 usage.
``zoo list`` and ``zoo info`` never import torch.

Each built-in command lives in a module of this package, imported only when the command runs (``zoo list``
imports ``zoo_core.cli.listing`` and nothing else of the CLI). The plugins' commands (hook
``register_commands``) are added when a name is not a built-in one, or when every command is listed
(``zoo --help``).

Example:
    >>> from zoo_core.cli import main
    >>> main(["list", "vae*"])  # what `zoo list 'vae*'` prints, then SystemExit(0)
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ._group import ZooGroup

__all__ = ["BUILTIN_COMMANDS", "ZooGroup", "cli", "main"]

#: command name -> "module:attribute" of the built-in commands (modules of this package)
BUILTIN_COMMANDS: dict[str, str] = {
    "list": "listing:list_command",
    "info": "catalog:info",
    "architectures": "catalog:architectures_command",
    "datasets": "catalog:datasets",
    "metrics": "catalog:metrics",
    "tasks": "catalog:tasks_command",
    "plugins": "catalog:plugins",
    "load": "generate:load",
    "sample": "generate:sample",
    "translate": "generate:translate",
    "upscale": "generate:upscale",
    "eval": "evaluate:eval_command",
    "convert": "convert:convert",
    "train": "train:train",
    "push": "publish:push_command",
    "registry": "publish:registry",
    "cache": "cache:cache",
    "hub": "hub:hub",
    "plugin": "plugin:plugin",
}


class _RootGroup(ZooGroup):
    """``zoo``: the built-in commands imported on use; the plugins' commands added when a name needs them."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in BUILTIN_COMMANDS:
            return _builtin(cmd_name)
        command = self.commands.get(cmd_name)
        if command is None:
            _add_plugin_commands()
            command = self.commands.get(cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        _add_plugin_commands()
        return sorted({*BUILTIN_COMMANDS, *self.commands})


def _builtin(name: str) -> click.Command:
    module, _, attribute = BUILTIN_COMMANDS[name].partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)


@click.group(cls=_RootGroup)
@click.version_option(__version__, prog_name="zoo")
def cli() -> None:
    """zoo: pretrained classic generative models (VAE, GANs, PixelCNN++ ...), one command away.

    Weights come from the Hugging Face Hub (or the mirror in HF_ENDPOINT) and are checked
    against the sha256 in the registry before use.
    """


_ADDED_HOOKS: list[Any] = []  # register_commands implementations already run (main() may run twice in a process)


def _add_plugin_commands() -> None:
    """Add the plugins' commands: each plugin fills a group of its own, then its commands are merged in.

    A name that is taken (a built-in command, or another plugin's) is reported and skipped; a built-in
    command a plugin put into the group at import is removed (the built-in one is always used) and reported.
    """
    from .._plugins import captured_stdout, describe_exception, get_plugin_manager, mark_failed, report_problem

    pm = get_plugin_manager()
    for name in sorted(set(cli.commands) & set(BUILTIN_COMMANDS)):
        del cli.commands[name]
        click.echo(f"Warning: a plugin replaced the built-in command {name!r} at import; zoo keeps its own.", err=True)
    for impl in pm.hook.register_commands.get_hookimpls():
        if impl.function in _ADDED_HOOKS:  # equal bound methods: the same plugin object
            continue
        _ADDED_HOOKS.append(impl.function)
        staging = ZooGroup(name=cli.name)
        try:
            with captured_stdout(impl.plugin_name, "in register_commands"):
                impl.function(cli=staging)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a broken plugin must not break the CLI (SystemExit included)
            mark_failed(impl.plugin_name, f"register_commands failed, no command added: {describe_exception(exc)}")
            continue
        for name, command in staging.commands.items():
            if name in cli.commands or name in BUILTIN_COMMANDS:
                owner = "zoo (a built-in command)" if name in BUILTIN_COMMANDS else "another plugin"
                report_problem(impl.plugin_name, f"its command {name!r} is already taken by {owner}; skipped")
                continue
            cli.add_command(command, name)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``zoo`` console script."""
    try:
        cli.main(args=argv, prog_name="zoo")
    except KeyboardInterrupt:  # Ctrl-C (or a plugin raising KeyboardInterrupt) while plugins load
        click.echo("Interrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
