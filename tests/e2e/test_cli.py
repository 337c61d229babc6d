"""The command line end to end, as a user runs it: subprocesses on a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(
    args: list[str], env: dict[str, str], stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd or ROOT,
    )


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    if database_url.startswith("postgresql"):
        # The shared scratch database may hold other tests' rows; start empty.
        import asyncio

        from tests.conftest import empty_core

        async def wipe() -> None:
            core = await empty_core(database_url)
            await core.close()

        asyncio.run(wipe())
    return {"DATABASE_URL": database_url, "SITE_URL": "https://news.test"}


def test_console_answers_the_readme_session(env: dict[str, str], tmp_path: Path) -> None:
    session = "/latest\n/explain distilation\n/subscribe #xai\n/subscriptions\n"
    done = run(["console"], env, session, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "> /latest" in out and "Read more <https://news.test/stories/" in out
    assert out.count("Read more") == 5
    assert "Showing “distillation” for “distilation”" in out
    assert "Querying a model many times" in out
    assert "Subscribed to #xAI" in out
    assert "This chat follows #xAI." in out
    assert "Traceback" not in done.stderr


def test_console_keeps_its_subscriptions_between_runs(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["console"], env, "/subscribe OpenAI, Elon Musk\n", cwd=tmp_path).returncode == 0
    again = run(["console"], env, "/subscriptions\n/tags\n", cwd=tmp_path)
    assert "This chat follows #ElonMusk, #OpenAI." in again.stdout
    assert "✓ following" in again.stdout


def test_console_survives_bad_lines(env: dict[str, str], tmp_path: Path) -> None:
    lines = ["", "/", "/nosuch", "/explain " + "x" * 1000, "/search <b>&amp;", "\x1b[2J/latest 2", "/latest 2"]
    done = run(["console"], env, "\n".join(lines) + "\n", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "no /nosuch command" in done.stdout and "too long" in done.stdout
    assert done.stdout.count("Read more") == 2  # the escape-prefixed line is not a command


def test_import_and_migrate_commands(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "SEED_SAMPLES": "false"}
    assert run(["migrate"], env, cwd=tmp_path).returncode == 0
    story = tmp_path / "stories" / "new.md"
    story.parent.mkdir()
    story.write_text(
        "---\ntitle: Fresh story\nsummary: Short.\ncategory: AI\npublished_at: 2026-11-20T10:00:00Z\ntags: [Fresh]\n---\nLead.\n"
    )
    first = run(["import", str(story.parent)], env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created   fresh-story" in first.stdout and "1 created, 0 updated, 0 unchanged" in first.stdout
    second = run(["import", str(story)], env, cwd=tmp_path)
    assert "0 created, 0 updated, 1 unchanged" in second.stdout
    (tmp_path / "stories" / "bad.md").write_text(
        "---\ntitle: Bad\nsummary: x\ncategory: AI\npublished_at: soon\ntags: [A]\n---\n"
    )
    third = run(["import", str(story.parent)], env, cwd=tmp_path)
    assert third.returncode == 1
    assert f"{tmp_path / 'stories' / 'bad.md'}: published_at: 'soon' is not an ISO 8601" in third.stderr
    latest = run(["console"], env, "/latest\n", cwd=tmp_path)
    assert "Fresh story" in latest.stdout and latest.stdout.count("Read more") == 1  # no samples: SEED_SAMPLES=false


def test_an_invalid_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    for name, value in (("API_PORT", "eighty"), ("DATABASE_URL", "mysql://x"), ("SEED_SAMPLES", "perhaps")):
        done = run(["migrate"], {name: value}, cwd=tmp_path)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"explainer-bot: invalid setting {name}:"), done.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_serves_health_and_stops_cleanly_on_sigterm(env: dict[str, str], tmp_path: Path) -> None:
    import json
    import signal
    import time
    import urllib.request

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env, "API_PORT": str(port)},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                    health = json.load(answer)
                    assert health["status"] == "ok" and health["database"] == "ok" and health.get("adapters", {}) == {}
                    break
            except OSError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "the API never came up"
                time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


def test_publish_command_queues_pushes_once(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["console"], env, "/subscribe xAI\n", cwd=tmp_path).returncode == 0
    story = tmp_path / "scoop.md"
    story.write_text(
        "---\ntitle: A scoop on xAI\nsummary: Short.\ncategory: AI\npublished_at: 2026-11-27T08:00:00Z\ntags: [xAI, OpenAI]\n---\nLead.\n"
    )
    first = run(["publish", str(story)], env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created   a-scoop-on-xai: 1 deliveries queued" in first.stdout
    again = run(["publish", str(story)], env, cwd=tmp_path)
    assert "unchanged a-scoop-on-xai: 0 deliveries queued" in again.stdout
    (tmp_path / "bad.md").write_text("---\ntitle: x\n---\n")
    refused = run(["publish", str(tmp_path / "bad.md")], env, cwd=tmp_path)
    assert refused.returncode == 1 and "bad.md: summary: missing" in refused.stderr


def _mark_sent(database_url: str) -> None:
    """What a worker records once the pushes went out (the command line sends none itself)."""
    import asyncio

    from sqlalchemy import update

    from content.models import Delivery
    from tests.conftest import settings_for

    async def mark() -> None:
        from bot.composition import build_core

        core = build_core(settings_for(database_url))
        try:
            async with core.sessions.begin() as session:
                await session.execute(update(Delivery).values(status="sent", message_ids=("1",)))
        finally:
            await core.close()

    asyncio.run(mark())


def test_retract_takes_down_what_went_out_and_cancels_the_rest(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    assert run(["console"], env, "/subscribe xAI\n", cwd=tmp_path).returncode == 0
    story = tmp_path / "scoop.md"
    front = "---\nslug: a-scoop-on-xai\ntitle: {title}\nsummary: Short.\ncategory: AI\npublished_at: 2026-11-27T08:00:00Z\ntags: [xAI]\n"
    story.write_text(front.format(title="A scoop on xAI") + "---\nLead.\n")
    assert "created   a-scoop-on-xai: 1 deliveries queued" in run(["publish", str(story)], env, cwd=tmp_path).stdout
    _mark_sent(database_url)

    story.write_text(
        front.format(title="A smaller scoop on xAI") + "correction: The headline overstated it.\n---\nLead.\n"
    )
    corrected = run(["publish", str(story)], env, cwd=tmp_path)
    assert corrected.returncode == 0, corrected.stderr
    assert "updated   a-scoop-on-xai: 0 deliveries queued, 1 pushes to correct" in corrected.stdout

    # The push went out (one to take down); its edit had not (cancelled).
    retracted = run(["retract", "a-scoop-on-xai", "--reason", "The source withdrew it."], env, cwd=tmp_path)
    assert retracted.returncode == 0, retracted.stderr
    assert retracted.stdout.strip() == "retracted a-scoop-on-xai: 1 pushes to take down, 1 not yet sent cancelled"
    again = run(["retract", "a-scoop-on-xai"], env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        "a-scoop-on-xai was already withdrawn: 0 pushes to take down, 0 not yet sent cancelled"
    )
    latest = run(["console"], env, "/latest\n/story a-scoop-on-xai\n", cwd=tmp_path)
    assert "Read more" in latest.stdout and "A smaller scoop on xAI" not in latest.stdout
    assert "withdrawn by the newsroom" in latest.stdout

    unknown = run(["retract", "no-such-story"], env, cwd=tmp_path)
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.strip().splitlines()[-1] == "explainer-bot: no story with slug 'no-such-story'"
    too_long = run(["retract", "a-scoop-on-xai", "--reason", "x" * 501], env, cwd=tmp_path)
    assert too_long.returncode == 2 and "longer than 500 characters" in too_long.stderr


def test_users_add_list_and_remove_editors_accounts(env: dict[str, str], tmp_path: Path) -> None:
    added = run(["users", "add", "Ada@Newsroom.test", "--role", "viewer"], env, "a long password here\n", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added ada@newsroom.test (viewer)"
    assert "a long password" not in added.stdout + added.stderr
    again = run(["users", "add", "ada@newsroom.test"], env, "another long password\n", cwd=tmp_path)
    assert again.returncode == 2 and "already exists; nothing was written" in again.stderr
    short = run(["users", "add", "bo@newsroom.test"], env, "short\n", cwd=tmp_path)
    assert short.returncode == 2 and "10 to 1024 characters" in short.stderr
    listed = run(["users", "list"], env, cwd=tmp_path)
    assert listed.returncode == 0
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ada@newsroom.test\tviewer\tsince ")
    assert run(["users", "remove", "ADA@newsroom.test"], env, cwd=tmp_path).returncode == 0
    gone = run(["users", "remove", "ada@newsroom.test"], env, cwd=tmp_path)
    assert gone.returncode == 1 and "no account" in gone.stderr
    assert "no accounts" in run(["users", "list"], env, cwd=tmp_path).stdout


class _Terminal:
    """Stdin as a terminal: `users add` asks with getpass and reads nothing from it."""

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        raise AssertionError("a terminal's password is asked for, not read")


def test_users_add_at_a_terminal_asks_twice(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import getpass
    import logging

    from bot.__main__ import main

    # main() sets up logging on the root logger: it is put back after the test.
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.root.level)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setattr(sys, "stdin", _Terminal())
    typed: list[str] = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": typed.pop(0))

    typed[:] = ["a long password here", "a long password hear"]
    assert main(["users", "add", "ada@newsroom.test"]) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines()[-1] == "explainer-bot: the passwords differ; nothing was written"
    assert "a long password" not in out + err
    assert main(["users", "list"]) == 0
    assert "no accounts" in capsys.readouterr().out

    typed[:] = ["a long password here", "a long password here"]
    assert main(["users", "add", "ada@newsroom.test"]) == 0
    assert capsys.readouterr().out.strip() == "added ada@newsroom.test (editor)"  # editor unless told
    assert main(["users", "list"]) == 0
    assert capsys.readouterr().out.startswith("ada@newsroom.test\teditor\tsince ")
