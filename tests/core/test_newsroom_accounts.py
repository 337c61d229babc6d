"""Editors' accounts, their sessions and the sign-in throttle, on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

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


class CountingHasher(argon2.PasswordHasher):
    """The cheap hasher, counting the verifications it makes."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


async def test_an_unknown_email_costs_one_verification_like_a_known_one(blank: Core) -> None:
    hasher = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    accounts = Accounts(blank.sessions, hasher)
    await accounts.add("ada@newsroom.test", PASSWORD, EditorRole.EDITOR)
    for email in ("ada@newsroom.test", "nobody@newsroom.test", "not an email"):
        before = hasher.verified
        assert await accounts.verify(email, "a wrong password") is None
        assert hasher.verified == before + 1, email


async def test_a_hash_made_with_older_parameters_is_stored_anew_at_sign_in(blank: Core) -> None:
    account = await Accounts(blank.sessions, CHEAP).add("ada@newsroom.test", PASSWORD, EditorRole.EDITOR)

    async def stored() -> str:
        async with blank.sessions() as session:
            return str((await session.execute(select(NewsroomAccount.password_hash))).scalar_one())

    old = await stored()
    stronger = Accounts(blank.sessions, argon2.PasswordHasher(time_cost=2, memory_cost=8, parallelism=1))
    assert await stronger.verify("ada@newsroom.test", "not the password") is None
    assert await stored() == old  # a wrong password changes nothing
    assert await stronger.verify("ada@newsroom.test", PASSWORD) == account
    new = await stored()
    assert new != old and "t=2" in new
    assert await stronger.verify("ada@newsroom.test", PASSWORD) == account
    assert await stored() == new  # already current: left alone


async def test_opening_a_session_clears_the_expired_ones(blank: Core) -> None:
    account = await Accounts(blank.sessions, CHEAP).add("ada@newsroom.test", PASSWORD, EditorRole.EDITOR)
    now = [utcnow()]
    signins = SignIns(blank.sessions, lifetime_hours=1, clock=lambda: now[0])
    old, _ = await signins.open(account)
    kept, _ = await signins.open(account)
    now[0] += timedelta(minutes=30)
    fresh, _ = await signins.open(account)
    assert await count(blank, NewsroomSession) == 3
    now[0] += timedelta(minutes=31)  # the first two are past their hour
    await signins.open(account)
    assert await count(blank, NewsroomSession) == 2
    assert await signins.find(old) is None and await signins.find(kept) is None
    assert await signins.find(fresh) is not None
    for garbage in ("", "\ud800", "x" * 500):
        await signins.close(garbage)  # a cookie the page never set is no error
    assert await count(blank, NewsroomSession) == 2


def test_the_throttle_keeps_its_memory_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from content.newsroom import throttle as module

    now = [1000.0]
    throttle = SignInThrottle(clock=lambda: now[0])
    for _ in range(10_000):  # many tries at once, each waiting, then failing
        throttle.failed("198.51.100.7")
    assert throttle.delay("198.51.100.7") == 30.0
    assert len(throttle._failures["198.51.100.7"]) <= 5 + 6
    throttle.failed("203.0.113.9")
    now[0] += 61
    throttle.failed("192.0.2.1")  # the others' failures are all old: they go
    assert list(throttle._failures) == ["192.0.2.1"]

    monkeypatch.setattr(module, "MAX_ADDRESSES", 3)
    for n in range(10):
        now[0] += 1
        throttle.failed(f"10.0.0.{n}")
    assert list(throttle._failures) == ["10.0.0.7", "10.0.0.8", "10.0.0.9"]
    throttle.failed("10.0.0.7")  # its last failure is now the newest
    now[0] += 1
    throttle.failed("10.0.0.10")
    assert list(throttle._failures) == ["10.0.0.9", "10.0.0.7", "10.0.0.10"]
