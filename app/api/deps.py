"""Request dependencies: a database session per request and the authenticated caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query
from sqlalchemy.orm import Session

from app.core.db import session_scope
from app.services.tenants import Caller, authenticate


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

# the largest integer the database's INTEGER columns hold: a page number or an offset beyond it
# is refused by the schema (422) rather than reaching the database
MAX_INT = 2**31 - 1
PageNumber = Annotated[int, Path(ge=1, le=MAX_INT, description="page number, 1-based")]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]


def get_caller(session: SessionDep,
               authorization: Annotated[str | None, Header()] = None) -> Caller:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return authenticate(session, token)


CallerDep = Annotated[Caller, Depends(get_caller)]
