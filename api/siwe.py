"""Sign-In with Ethereum (EIP-4361): the message the service asks a wallet to sign, its check, and
the session token that follows. Nothing here holds a user's key: the wallet signs (personal_sign),
the service recovers the address.

Nonces and session tokens are stateless HMACs under one secret (data_dir/session/secret, made
once), so several API workers accept each other's; a used nonce is remembered until it expires (a
nonce's life is short, `NONCE_TTL_S`) where `spend` keeps it: in the database every API worker
shares (api/shared.py `UsedNonces`), or in this process's memory by default.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from core.errors import InputError

NONCE_TTL_S = 600
SESSION_TTL_S = 8 * 3600
STATEMENT = "Sign in to Heritage Ledger. This signature moves nothing and costs nothing."
MAX_MESSAGE = 2_000
_LINE = re.compile(r"^(?P<domain>[^\s]+) wants you to sign in with your Ethereum account:\n(?P<address>0x[0-9a-fA-F]{40})\n\n"
                   r"(?P<statement>[^\n]*)\n\nURI: (?P<uri>[^\n]+)\nVersion: 1\nChain ID: (?P<chain>[0-9]+)\n"
                   r"Nonce: (?P<nonce>[0-9a-f]{16,64})\nIssued At: (?P<issued>[^\n]+)\nExpiration Time: (?P<expires>[^\n]+)$")


class SessionRefused(InputError):
    """A sign-in or a session token that does not hold; the message says why."""


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


@dataclass
class Sessions:
    secret: bytes
    chain_id: int
    spend: Callable[[str, int, int], bool] | None = None
    """(nonce, expires, now) → False if the nonce was used already; None: `used`, in memory."""
    used: dict[str, int] = field(default_factory=dict)
    """Nonces signed in with, and when they expire (without `spend`)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def in_dir(cls, data_dir: Path, chain_id: int, spend: Callable[[str, int, int], bool] | None = None) -> Sessions:
        """The secret under `data_dir/session/secret`, made at the first call."""
        path = data_dir / "session" / "secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(secrets.token_bytes(32))
            path.chmod(0o600)
        return cls(path.read_bytes(), chain_id, spend)

    def _mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def challenge(self, address: str, *, domain: str, uri: str, now: int | None = None) -> tuple[str, int]:
        """The EIP-4361 message for `address` to sign, and when its nonce expires."""
        if not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]{1,253}", domain) or "\n" in uri or len(uri) > 500:
            raise SessionRefused(f"{domain!r} is not a host[:port], or the URI is not one line")
        now = int(time.time()) if now is None else now
        expires = now + NONCE_TTL_S
        stamp = f"{secrets.token_hex(8)}{expires:x}"
        who = Web3.to_checksum_address(address)
        nonce = stamp + self._mac(f"nonce|{stamp}|{who}|{domain}")[:16]  # bound to the account and the site asking
        text = (f"{domain} wants you to sign in with your Ethereum account:\n{who}\n\n"
                f"{STATEMENT}\n\nURI: {uri}\nVersion: 1\nChain ID: {self.chain_id}\nNonce: {nonce}\n"
                f"Issued At: {_iso(now)}\nExpiration Time: {_iso(expires)}")
        return text, expires

    def sign_in(self, message: str, signature: str, *, now: int | None = None) -> tuple[str, str, int]:
        """(address, session token, its expiry) for a signed challenge; SessionRefused otherwise."""
        now = int(time.time()) if now is None else now
        m = _LINE.match(message) if len(message) <= MAX_MESSAGE else None
        if m is None:
            raise SessionRefused("not a sign-in message of this service: ask for a new one (POST /session/challenge)")
        nonce = m["nonce"]
        stamp, mac = nonce[:-16], nonce[-16:]
        bound = f"nonce|{stamp}|{Web3.to_checksum_address(m['address'])}|{m['domain']}"
        if not hmac.compare_digest(mac, self._mac(bound)[:16]) or m["statement"] != STATEMENT:
            raise SessionRefused("this service did not issue that sign-in message: ask for a new one")
        if int(m["chain"]) != self.chain_id:
            raise SessionRefused(f"signed for chain {m['chain']}, this is chain {self.chain_id}")
        expires = _unix(m["expires"])
        if expires < now or int(stamp[16:], 16) < now:
            raise SessionRefused("the sign-in message has expired: ask for a new one and sign it")
        try:
            signer = Account.recover_message(encode_defunct(text=message), signature=bytes.fromhex(signature.removeprefix("0x")))
        except Exception as err:  # eth_account raises several types for a malformed signature
            raise SessionRefused(f"cannot recover a signer from that signature ({type(err).__name__})") from err
        if signer != Web3.to_checksum_address(m["address"]):
            raise SessionRefused(f"the signature is {signer}'s, not {m['address']}'s")
        if not self._spend(nonce, expires, now):
            raise SessionRefused("this sign-in message was used already: ask for a new one")
        until = now + SESSION_TTL_S
        body = f"{signer}|{until}"
        token = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=") + "." + self._mac(f"session|{body}")
        return signer, token, until

    def _spend(self, nonce: str, expires: int, now: int) -> bool:
        if self.spend is not None:
            return self.spend(nonce, expires, now)
        with self._lock:
            self.used = {n: t for n, t in self.used.items() if t >= now}
            if nonce in self.used:
                return False
            self.used[nonce] = expires
            return True

    def holder(self, token: str | None, *, now: int | None = None) -> tuple[str, int]:
        """(address, expiry) of a live session token; SessionRefused otherwise."""
        now = int(time.time()) if now is None else now
        if not token or "." not in token or len(token) > 300:
            raise SessionRefused("not signed in: sign in with your wallet first")
        encoded, mac = token.rsplit(".", 1)
        try:
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            address, until = body.split("|")
        except ValueError as err:
            raise SessionRefused("the session token is damaged: sign in again") from err
        if not hmac.compare_digest(mac, self._mac(f"session|{body}")):
            raise SessionRefused("the session token is not this service's: sign in again")
        if int(until) < now:
            raise SessionRefused("the session has expired: sign in again")
        return address, int(until)
