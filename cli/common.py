"""What every `heritage` command shares: options, output, error handling, the chain connection and
senders.

Every command takes `--json` for scripts. Senders are the node's unlocked accounts, named by
index (`--from 1`) or address; on the embedded anvil these are its development accounts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from cli.progress import bars
from core.errors import HeritageError, InputError
from core.types import Ppm
from core.types import Progress as ProgressFn

if TYPE_CHECKING:  # imported where used: the chain client (web3, eth_account) costs ~0.8 s, which recognize never needs
    from chain.client import Chain
    from chain.types import Recipient
    from core.blockstore import ContentStore
    from core.config import Settings

console = Console()

JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")
FromOpt = typer.Option("0", "--from", help="Sender: an unlocked account's index or address.")
DataOpt = typer.Option(Path(".data"), "--data-dir", envvar="HERITAGE_DATA_DIR", help="Data directory.")


def settings_for(data_dir: Path) -> Settings:
    from core.config import Settings

    return Settings(data_dir=data_dir, deployments_dir=data_dir / "deployments")


def emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        print(json.dumps(payload))
    else:
        console.print(text)


@contextmanager
def errors() -> Iterator[None]:
    """A platform error, or a contract's revert (by its name, decoded with the connected chain's
    ABI), printed as one line and exit status 2: never a traceback."""
    try:
        yield
    except HeritageError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2) from err
    except Exception as err:
        if not isinstance(err, _contract_errors()):
            raise
        named = _DECODER[0].from_exception(err) if _DECODER else None
        console.print(f"[red]error:[/] {named or f'the contract refused: {err}'}")
        raise typer.Exit(2) from err


def _contract_errors() -> tuple[type[Exception], ...]:
    """web3's revert errors, once something has imported web3 (no revert can have happened before):
    a command that never touches the chain does not pay web3's import."""
    if "web3.exceptions" not in sys.modules:
        return ()
    from web3.exceptions import ContractCustomError, ContractLogicError

    return ContractCustomError, ContractLogicError


_DECODER: list[Any] = []
"""The connected chain's error decoder, for `errors` (set by `connected`)."""


@contextmanager
def stages(*, quiet: bool = False) -> Iterator[ProgressFn]:
    """Errors handled as `errors` does, and a rich progress display with one bar per stage (none
    when `quiet`, e.g. under --json); yields the `say(stage, done, total)` callback long runs report to."""
    with errors(), bars(console, quiet=quiet) as say:
        yield say


@contextmanager
def connected(data_dir: Path) -> Iterator[Chain]:
    from chain.client import connect

    with errors():
        c = connect(settings_for(data_dir))
        _DECODER[:] = [c.decoder]
        try:
            yield c
        finally:
            c.close()


def sender_address(c: Chain, who: str) -> str:
    if who.isdigit():
        accounts = c.accounts()
        if int(who) >= len(accounts):
            raise InputError(f"--from {who}: there are {len(accounts)} accounts to send from"
                             + (" (HERITAGE_PRIVATE_KEY's)" if c.signer else " (the node's unlocked ones)"))
        return str(accounts[int(who)])
    if not c.w3.is_address(who):
        raise InputError(f"{who!r} is not an account: give an address (0x and 40 hex digits) or an account number")
    return str(c.w3.to_checksum_address(who))


def split_spec(c: Chain, spec: list[str], default: str) -> tuple[Recipient, ...]:
    """`ADDRESS:PPM` items; no items means everything to `default`."""
    from chain.types import Recipient, everything_to

    if not spec:
        return everything_to(default)
    out = []
    for item in spec:
        address, _, ppm = item.partition(":")
        if not ppm.isdigit():
            raise InputError(f"--split {item!r}: write ADDRESS:PPM, for example 0xabc…:600000")
        out.append(Recipient(sender_address(c, address), Ppm(int(ppm))))
    return tuple(out)


def stored_content(store: ContentStore, path: Path) -> bytes:
    from core.cid import from_text

    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty: an empty file is no recording; choose the file again")
    return from_text(store.put_file(path))


def han_sources(data_dir: Path) -> Any:
    """Each Essen Han song's protocol flags from the chain in `data_dir`, as the `source` callback
    the training sets take (`ml.data.training`): songs whose work forbids ML use are left out."""
    from dataclasses import asdict

    from chain.derive import protocol_sources
    from ml.data.corpora import essen
    from ml.data.training import Source

    with connected(data_dir) as c:
        flags = {s.cid: s for s in protocol_sources(c, [p.cid for p in essen(("Chinese Han",))])}

    def source(piece: Any) -> Source:
        return Source(**asdict(flags[piece.cid]))

    return source
