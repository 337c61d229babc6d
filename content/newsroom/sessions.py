"""Signed-in sessions of the newsroom page, kept in the database so that a
restart or a second API process keeps editors signed in.

The browser holds a random token; the table holds only its SHA-256, so a
copy of the database signs nobody in. Each session has its own CSRF token,
which every form of the page carries.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from content.db import SessionFactory
from content.models import NewsroomAccount, NewsroomSession, utcnow
from content.newsroom.accounts import Account

TOKEN_MAX = 100


@dataclass(frozen=True, slots=True)
class SignedIn:
    account: Account
    csrf: str
    expires_at: datetime


def _wellformed(token: str) -> bool:
    # A cookie the page never set: not worth a query (and a lone surrogate
    # would not even encode).
    return bool(token) and len(token) <= TOKEN_MAX and token.isascii()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignIns:
    def __init__(
        self, sessions: SessionFactory, lifetime_hours: float = 12.0, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = sessions
        self._lifetime = timedelta(hours=lifetime_hours)
        self._clock = clock

    async def open(self, account: Account) -> tuple[str, SignedIn]:
        """A new session: the token for the cookie, and what it signs in."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._clock()
        expires = now + self._lifetime
        async with self._sessions.begin() as session:
            await session.execute(delete(NewsroomSession).where(NewsroomSession.expires_at <= now))
            session.add(
                NewsroomSession(
                    token_hash=_hash(token), account_id=account.id, csrf=csrf, created_at=now, expires_at=expires
                )
            )
        return token, SignedIn(account, csrf, expires)

    async def find(self, token: str) -> SignedIn | None:
        if not _wellformed(token):
            return None
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(NewsroomSession, NewsroomAccount)
                    .join(NewsroomAccount, NewsroomAccount.id == NewsroomSession.account_id)
                    .where(NewsroomSession.token_hash == _hash(token))
                )
            ).first()
        if row is None:
            return None
        found, account = row
        if found.expires_at <= self._clock():
            await self.close(token)
            return None
        return SignedIn(
            Account(account.id, account.email, account.role, account.created_at), found.csrf, found.expires_at
        )

    async def close(self, token: str) -> None:
        if not _wellformed(token):
            return
        async with self._sessions.begin() as session:
            await session.execute(delete(NewsroomSession).where(NewsroomSession.token_hash == _hash(token)))
