"""What the listening room's route files share: the study store, the token secret and the bearer
token as dependencies, the researcher and member checks, and the criterion's wire shape.

Data: one SQLite file, `<data_dir>/listening/studies.sqlite`. Credentials are HMAC-signed tokens
(`listening.invites`), sent as `Authorization: Bearer <token>` (a rater's link may carry it as
`?token=` instead), signed with `settings.listening_secret` or a key made once in
`<data_dir>/listening/secret`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import SettingsDep
from api.problems import Problem
from listening.invites import MEMBERSHIP_SCOPE, Claims, load_or_create_secret, require, verify
from listening.model import Criterion, utc_now
from listening.store import Store, connect
from listening.studies import Studies

DAY = 86_400


# ---------------------------------------------------------------------- dependencies
def store_of(settings: SettingsDep) -> Iterator[Store]:
    with connect(settings.data_dir / "listening" / "studies.sqlite") as store:
        yield store


def secret_of(settings: SettingsDep) -> bytes:
    if settings.listening_secret is not None:
        return settings.listening_secret.get_secret_value().encode()
    return load_or_create_secret(settings.data_dir / "listening" / "secret")


def token_of(authorization: Annotated[str | None, Header(description="Bearer <token>")] = None,
           token: Annotated[str | None, Query(description="A rater's invitation token (from the link).")] = None) -> str:
    if authorization is not None and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    if token:
        return token
    raise Problem(401, "token-missing", "send your token as 'Authorization: Bearer <token>' (or open your invitation link, "
                  "which carries it as ?token=)")


StoreDep = Annotated[Store, Depends(store_of)]
Secret = Annotated[bytes, Depends(secret_of)]
Token = Annotated[str, Depends(token_of)]


def claims(token: str, secret: bytes) -> Claims:
    return verify(token, secret=secret, now=utc_now())


def researcher(store: Store, study_id: str, token: str, secret: bytes) -> Studies:
    """The studies service once the caller is shown to be this study's researcher."""
    studies = Studies(store)
    studies.get(study_id)
    require(claims(token, secret), "researcher", scope=study_id)
    return studies


def membership(header: str | None, secret: bytes) -> frozenset[int]:
    if header is None:
        return frozenset()
    return frozenset(require(claims(header, secret), "member", scope=MEMBERSHIP_SCOPE).communities)



class ScaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: int = Field(description="Lowest point, e.g. 1.")
    max: int = Field(description="Highest point, e.g. 5.")
    labels: list[str] = Field(default=[], description="One label per point, lowest first; or none.")



class CriterionOut(BaseModel):
    name: str
    prompt: str
    scale: ScaleIn
    approval_threshold: int | None



def criterion_out(c: Criterion) -> CriterionOut:
    return CriterionOut(name=c.name, prompt=c.prompt, approval_threshold=c.approval_threshold,
                        scale=ScaleIn(min=c.scale.minimum, max=c.scale.maximum, labels=list(c.scale.labels)))

