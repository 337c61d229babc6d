"""Editors' accounts: an email, a role and an argon2id password hash.

A password is never stored or logged; only its hash is. Verifying an
unknown email still spends one hash verification, so how long a sign-in
takes does not tell which emails have accounts. Hashing runs in a worker
thread: the event loop goes on serving while a password is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import argon2
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from content.db import SessionFactory
from content.models import NewsroomAccount, NewsroomSession
from content.newsroom.roles import EditorRole

__all__ = ["Account", "AccountError", "Accounts", "EditorRole"]

EMAIL_MAX = 254
PASSWORD_MIN, PASSWORD_MAX = 10, 1024


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    role: EditorRole
    created_at: datetime


class AccountError(ValueError):
    """An account refused as asked for; nothing was written."""


def normal_email(email: str) -> str:
    """The email as accounts are keyed by it, or AccountError when it cannot be one."""
    value = email.strip().lower()
    local, at, domain = value.partition("@")
    if (
        not at
        or not local
        or "@" in domain
        or "." not in domain.strip(".")
        or any(c.isspace() for c in value)
        or len(value) > EMAIL_MAX
    ):
        raise AccountError(f"{email.strip()[:80]!r} is not an email address")
    return value


def _account(row: NewsroomAccount) -> Account:
    return Account(row.id, row.email, row.role, row.created_at)


class Accounts:
    def __init__(self, sessions: SessionFactory, hasher: argon2.PasswordHasher | None = None) -> None:
        self._sessions = sessions
        self._hasher = hasher or argon2.PasswordHasher()
        # Verified against when the email is unknown: made now, with this
        # hasher's cost, so that even the first such sign-in takes as long
        # as one for an account.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    async def add(self, email: str, password: str, role: EditorRole) -> Account:
        address = normal_email(email)
        if not (PASSWORD_MIN <= len(password) <= PASSWORD_MAX):
            raise AccountError(f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters")
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        try:
            async with self._sessions.begin() as session:
                row = NewsroomAccount(email=address, role=role, password_hash=hashed)
                session.add(row)
                await session.flush()
                return _account(row)
        except IntegrityError:
            raise AccountError(f"an account for {address} already exists") from None

    async def all(self) -> list[Account]:
        async with self._sessions() as session:
            rows = (await session.execute(select(NewsroomAccount).order_by(NewsroomAccount.email))).scalars()
            return [_account(row) for row in rows]

    async def remove(self, email: str) -> bool:
        """The account goes, and its sessions with it (signed out everywhere)."""
        try:
            address = normal_email(email)
        except AccountError:
            return False
        async with self._sessions.begin() as session:
            account_id = (
                await session.execute(select(NewsroomAccount.id).where(NewsroomAccount.email == address))
            ).scalar_one_or_none()
            if account_id is None:
                return False
            # Explicitly: SQLite may run without foreign keys enforced.
            await session.execute(delete(NewsroomSession).where(NewsroomSession.account_id == account_id))
            await session.execute(delete(NewsroomAccount).where(NewsroomAccount.id == account_id))
            return True

    async def verify(self, email: str, password: str) -> Account | None:
        """The account when the password is its own; None otherwise."""
        try:
            address = normal_email(email)
        except AccountError:
            address = None
        row = None
        if address is not None:
            async with self._sessions() as session:
                row = (
                    await session.execute(select(NewsroomAccount).where(NewsroomAccount.email == address))
                ).scalar_one_or_none()
        if row is None or len(password) > PASSWORD_MAX:
            with contextlib.suppress(argon2.exceptions.VerificationError):
                await asyncio.to_thread(self._hasher.verify, self._dummy, password[:PASSWORD_MAX])
            return None
        try:
            await asyncio.to_thread(self._hasher.verify, row.password_hash, password)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(row.password_hash):
            # Made with older parameters than the hasher's: stored anew now
            # that the password is at hand.
            rehashed = await asyncio.to_thread(self._hasher.hash, password)
            async with self._sessions.begin() as session:
                await session.execute(
                    update(NewsroomAccount).where(NewsroomAccount.id == row.id).values(password_hash=rehashed)
                )
        return _account(row)
