"""Commands registered by name and imported when chosen, so that `heritage recognize` never imports
the chain client (web3, eth_account), the API (FastAPI) or the index (SQLAlchemy), and `heritage
pay` never imports torch.

A command is named by "module:attribute": a typer app becomes a command group, a function a
command, built exactly as `Typer.add_typer` and `Typer.command` build them. `heritage --help`
lists every command, so it imports them all; `heritage COMMAND ...` imports COMMAND's module only.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup


def load(target: str, name: str) -> Any:
    """The click command of "module:attribute", named `name`."""
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        command: Any = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands: those built already, and the named ones, built at first use."""

    def __init__(self, built: MutableMapping[str, Any], named: Mapping[str, str]) -> None:
        self._built, self._named = built, dict(named)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = load(self._named[name], name)  # KeyError for an unknown command, as a dict
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._built.pop(name, None)
        self._named.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._named
        yield from (n for n in self._built if n not in self._named)

    def __len__(self) -> int:
        return len(set(self._named) | set(self._built))

    def __contains__(self, name: object) -> bool:
        return name in self._named or name in self._built


def lazy_group(commands: Mapping[str, str]) -> type[TyperGroup]:
    """A typer group class (for `typer.Typer(cls=...)`) whose `commands` ("name" → "module:attribute",
    in help order) are imported when invoked."""

    class LazyGroup(TyperGroup):
        def __init__(self, **attrs: Any) -> None:
            super().__init__(**attrs)
            self.commands = LazyCommands(self.commands, commands)

        def list_commands(self, ctx: Any) -> list[str]:
            return list(self.commands)

    return LazyGroup
