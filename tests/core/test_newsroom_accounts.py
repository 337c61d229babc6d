"""Editors' accounts, their sessions and the sign-in throttle, on both databases."""

from __future__ import annotations

from datetime import timedelta

import argon2
import pytest
from sqlalchemy import func, select

from bot.composition import Core
from content.models import NewsroomAccount, NewsroomSession, utcnow
from content.newsroom.accounts import AccountError, Accounts, EditorRole
from content.newsroom.sessions import SignIns
from content.newsroom.throttle import SignInThrottle

CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"


async def count(core: Core, model: type) -> int:
    async with core.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_an_account_signs_in_with_its_own_password_only(blank: Core) -> None:
    accounts = Accounts(blank.sessions, CHEAP)
    account = await accounts.add("  Ada@Newsroom.TEST ", PASSWORD, EditorRole.EDITOR)
    assert account.email == "ada@newsroom.test" and account.role.can_publish
    assert await accounts.verify("ADA@newsroom.test", PASSWORD) == account
    assert await accounts.verify("ada@newsroom.test", PASSWORD + "!") is None
    assert await accounts.verify("nobody@newsroom.test", PASSWORD) is None
    assert await accounts.verify("not an email", PASSWORD) is None
    async with blank.sessions() as session:
        stored = (await session.execute(select(NewsroomAccount.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("email", "password", "problem"),
    [
        ("ada@newsroom.test", PASSWORD, "already exists"),
        ("no-at-sign", PASSWORD, "is not an email address"),
        ("ada@localhost", PASSWORD, "is not an email address"),
        ("a b@newsroom.test", PASSWORD, "is not an email address"),
        ("bo@newsroom.test", "short", "10 to 1024 characters"),
        ("bo@newsroom.test", "x" * 1025, "10 to 1024 characters"),
    ],
)
async def test_a_refused_account_writes_nothing(blank: Core, email: str, password: str, problem: str) -> None:
    accounts = Accounts(blank.sessions, CHEAP)
    await accounts.add("ada@newsroom.test", PASSWORD, EditorRole.VIEWER)
    with pytest.raises(AccountError, match=problem):
        await accounts.add(email, password, EditorRole.EDITOR)
    assert await count(blank, NewsroomAccount) == 1


async def test_sessions_expire_end_at_sign_out_and_with_their_account(blank: Core) -> None:
    accounts = Accounts(blank.sessions, CHEAP)
    account = await accounts.add("ada@newsroom.test", PASSWORD, EditorRole.VIEWER)
    now = [utcnow()]
    signins = SignIns(blank.sessions, lifetime_hours=12, clock=lambda: now[0])
    token, signed_in = await signins.open(account)
    assert signed_in.expires_at == now[0] + timedelta(hours=12) and len(signed_in.csrf) >= 32
    found = await signins.find(token)
    assert found is not None and found.account == account and found.csrf == signed_in.csrf
    async with blank.sessions() as session:
        assert token not in (await session.execute(select(NewsroomSession.token_hash))).scalar_one()
    for garbage in ("", "x" * 500, "nope", "ünïcode"):
        assert await signins.find(garbage) is None
    now[0] += timedelta(hours=12, seconds=1)
    assert await signins.find(token) is None  # expired, and gone
    assert await count(blank, NewsroomSession) == 0
    now[0] = utcnow()
    token, _ = await signins.open(account)
    await signins.close(token)
    assert await signins.find(token) is None
    token, _ = await signins.open(account)
    assert await accounts.remove("ADA@newsroom.test")
    assert await signins.find(token) is None and await count(blank, NewsroomSession) == 0
    assert not await accounts.remove("ada@newsroom.test")


async def test_a_changed_role_is_read_at_each_request(blank: Core) -> None:
    from sqlalchemy import update

    accounts = Accounts(blank.sessions, CHEAP)
    account = await accounts.add("ada@newsroom.test", PASSWORD, EditorRole.EDITOR)
    signins = SignIns(blank.sessions)
    token, _ = await signins.open(account)
    async with blank.sessions.begin() as session:
        await session.execute(update(NewsroomAccount).values(role=EditorRole.VIEWER))
    found = await signins.find(token)
    assert found is not None and not found.account.role.can_publish


def test_the_throttle_slows_an_address_after_five_failures_in_a_minute() -> None:
    now = [1000.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    for _ in range(4):
        throttle.failed("198.51.100.7")
    assert throttle.delay("198.51.100.7") == 0
    throttle.failed("198.51.100.7")
    assert throttle.delay("198.51.100.7") == 1.0
    throttle.failed("198.51.100.7")
    assert throttle.delay("198.51.100.7") == 2.0
    assert throttle.delay("203.0.113.9") == 0  # another address is not slowed
    for _ in range(20):
        throttle.failed("198.51.100.7")
    assert throttle.delay("198.51.100.7") == 30.0  # capped
    now[0] += 61
    assert throttle.delay("198.51.100.7") == 0  # the minute is over
    for _ in range(6):
        throttle.failed("198.51.100.7")
    throttle.succeeded("198.51.100.7")
    assert throttle.delay("198.51.100.7") == 0
