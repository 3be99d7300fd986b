"""Fast ABI encoding and event decoding straight through eth-abi.

web3.py's `encode_abi` and `process_log` walk every value through formatters: for a batch of 50
heritage works, 0.2 s of 0.26 s spent preparing a registration (measured with cProfile). These
helpers take the canonical Python values (int, bool, bytes, checksummed address strings, tuples
for structs) and encode or decode them with eth-abi directly: the same bytes, 10× less work.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_abi.grammar import ABIType, TupleType, parse
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak


def abi_type(arg: dict[str, Any]) -> str:
    """The canonical type of an ABI input, structs written out as tuples."""
    if arg["type"].startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in arg["components"]) + ")" + str(arg["type"][5:])
    return str(arg["type"])


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}(" + ",".join(abi_type(i) for i in item["inputs"]) + ")"


class Encoder:
    """Calldata for a contract's functions, by name."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self._functions = {
            item["name"]: (keccak(text=signature(item))[:4], [abi_type(i) for i in item["inputs"]])
            for item in abi
            if item.get("type") == "function"
        }

    def calldata(self, name: str, *args: Any) -> bytes:
        selector, types = self._functions[name]
        return selector + encode(types, list(args))


@dataclass(frozen=True)
class EventSpec:
    name: str
    indexed: list[tuple[str, str]]  # (name, type) in topic order
    data: list[tuple[str, str]]

    @property
    def data_types(self) -> list[str]:
        return [t for _, t in self.data]


class EventDecoder:
    """Logs of known events into (event name, args dict), by topic 0."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self._events: dict[bytes, EventSpec] = {}
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            spec = EventSpec(
                item["name"],
                [(i["name"], abi_type(i)) for i in item["inputs"] if i["indexed"]],
                [(i["name"], abi_type(i)) for i in item["inputs"] if not i["indexed"]],
            )
            self._events[keccak(text=signature(item))] = spec

    def decode(self, topics: Sequence[bytes], data: bytes) -> tuple[str, dict[str, Any]] | None:
        spec = self._events.get(bytes(topics[0])) if topics else None
        if spec is None:
            return None
        args: dict[str, Any] = {}
        for (name, typ), topic in zip(spec.indexed, topics[1:], strict=True):
            dynamic = typ in ("bytes", "string") or typ.endswith("]") or typ.startswith("(")
            args[name] = bytes(topic) if dynamic else _tidy(_parsed(typ), decode([typ], bytes(topic))[0])
        values = decode(spec.data_types, bytes(data))
        args.update({name: _tidy(_parsed(t), v) for (name, t), v in zip(spec.data, values, strict=True)})
        return spec.name, args


@functools.cache
def _parsed(typ: str) -> TupleType | ABIType:
    parsed: TupleType | ABIType = parse(typ)
    return parsed


def _tidy(typ: TupleType | ABIType, value: Any) -> Any:
    """As web3.py gives them: checksummed addresses, arrays as lists, structs as tuples."""
    if typ.is_array:
        return [_tidy(typ.item_type, v) for v in value]
    if isinstance(typ, TupleType):
        return tuple(_tidy(c, v) for c, v in zip(typ.components, value, strict=True))
    if typ.to_type_str() == "address":  # type: ignore[no-untyped-call]
        return to_checksum_address(value)
    return value
