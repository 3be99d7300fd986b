"""Signed tokens: invitation links for raters, and the credentials of researchers, community
members, ontology curators and reviewers.

A token is `<payload>.<mac>`, both base64url without padding: the payload is canonical JSON of
the claims (role, subject, scope, expiry, communities), the mac is HMAC-SHA256 of the domain
tag `heritage-listening-v1.` and the encoded payload under a secret the caller passes in (the
API takes it from its settings or a key file in its data directory; nothing here holds one).
Tokens carry no state: whether a rater is still enrolled in a study is the store's question.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

from core.errors import InputError
from listening.errors import InvalidToken, NotPermitted, TokenExpired

Role = Literal["researcher", "rater", "member", "curator", "reviewer"]
DOMAIN = b"heritage-listening-v1."
MIN_SECRET_BYTES = 16
ONTOLOGY_SCOPE = "ontology"
MEMBERSHIP_SCOPE = "communities"


@dataclass(frozen=True)
class Claims:
    """What a token says: `role` of `subject` within `scope` (a study id, "ontology" or
    "communities"), until `expires` (None: no expiry); `communities` for a member token."""

    role: Role
    subject: str
    scope: str
    expires: datetime | None = None
    communities: tuple[int, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"role": self.role, "sub": self.subject, "scope": self.scope, "communities": list(self.communities),
                "exp": None if self.expires is None else int(self.expires.timestamp())}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(f"the signing secret has {len(secret)} bytes; use at least {MIN_SECRET_BYTES} random bytes "
                         "(settings: listening_secret, or let the service generate its key file)")
    return hmac.new(secret, DOMAIN + payload.encode(), hashlib.sha256).digest()


def issue(claims: Claims, *, secret: bytes) -> str:
    """A token for `claims`, signed with `secret`."""
    payload = _b64(json.dumps(claims.to_json(), sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify(token: str, *, secret: bytes, now: datetime) -> Claims:
    """The claims of a token signed with `secret` and not expired at `now`.

    Raises `InvalidToken` for anything malformed or signed otherwise, `TokenExpired` past expiry."""
    payload, dot, mac = token.strip().partition(".")
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError) as err:
        raise InvalidToken("the token is malformed (copy the whole link you were given)") from err
    if not dot or not hmac.compare_digest(given, _mac(secret, payload)):
        raise InvalidToken("the token is not one this service signed, or it was altered: use the link you were given "
                           "unchanged, or ask the researcher for a new one")
    try:
        raw = json.loads(_unb64(payload))
        claims = Claims(role=raw["role"], subject=str(raw["sub"]), scope=str(raw["scope"]),
                        expires=None if raw["exp"] is None else datetime.fromtimestamp(int(raw["exp"]), UTC),
                        communities=tuple(int(c) for c in raw["communities"]))
    except (ValueError, KeyError, TypeError) as err:
        raise InvalidToken("the token's claims cannot be read: ask for a new one") from err
    if claims.role not in get_args(Role):
        raise InvalidToken(f"the token's role {claims.role!r} is not one this service knows: ask for a new one")
    if claims.expires is not None and now >= claims.expires:
        raise TokenExpired(f"this {claims.role} token expired at {claims.expires.isoformat()}: ask for a new invitation")
    return claims


def require(claims: Claims, *roles: Role, scope: str) -> Claims:
    """`claims` when its role is one of `roles` within `scope`; `NotPermitted` otherwise."""
    if claims.role not in roles:
        raise NotPermitted(f"a {claims.role} token cannot do this; it needs a {' or '.join(roles)} token")
    if claims.scope != scope:
        raise NotPermitted(f"this {claims.role} token is for {claims.scope!r}, not {scope!r}: use the token you were "
                           f"given for {scope!r}")
    return claims


def load_or_create_secret(path: Path) -> bytes:
    """The key in `path`, created with 32 random bytes (owner-only permissions) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)  # never replaces a key another process wrote first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    secret = path.read_bytes()
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(f"the key file {path} holds {len(secret)} bytes; delete it to have a new one made (tokens "
                         "signed with the old key stop working)")
    return secret
