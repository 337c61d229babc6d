"""Push delivery with the bot as real processes: a worker killed mid fan-out,
two workers sharing one bot, and the console chat getting a push.

The fake Telegram server runs in the test's event loop; the workers are
`python -m bot run --role worker` subprocesses pointed at it. Every wait is on
a condition with a generous deadline, never a fixed sleep, so a loaded machine
makes the tests slower rather than flaky.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import IO

import pytest

from tests.e2e.processes import SCOOP, Rig, clean_environ, eventually

ROOT = Path(__file__).resolve().parents[2]

# ----- a worker killed mid fan-out ------------------------------------------------------------------


async def test_a_killed_worker_loses_nothing_and_repeats_only_what_was_in_flight(rig: Rig) -> None:
    chats = 400
    await rig.followers(chats)
    published = await rig.core.publisher.publish(SCOOP)
    assert published.deliveries_queued == chats

    # 40/s: about 10 s for everyone. The 2 s lease has run out by the time the replacement looks.
    first = rig.start_worker("first", telegram_rate_limit=40, delivery_lease_seconds=2)
    await eventually(lambda: len(rig.fake.sent()) >= 120, "120 messages sent", timeout=60, every=0.005, alive=[first])
    os.kill(first.pid, signal.SIGKILL)
    assert await first.exited() == -signal.SIGKILL
    # S and D as the dead process left them: a request it had already put on the wire may still be
    # read and answered by the fake, a COMMIT it had sent still applied, so both are taken once that
    # has settled. Nothing can change them after that but a new worker.
    await rig.fake.wait_idle(quiet=0.5, timeout=10)
    reached = set(rig.delivered())  # S: chats Telegram got the story in
    recorded = {chat for chat, status in (await rig.statuses()).items() if status == "sent"}  # D: rows marked sent
    in_flight = reached - recorded
    assert 120 <= len(reached) < chats, "the kill came too late to interrupt the fan-out"
    assert recorded <= reached, "a row is marked sent that Telegram never got"
    assert max(rig.delivered().values()) == 1

    second = rig.start_worker("second", telegram_rate_limit=40, delivery_lease_seconds=2)
    await eventually(rig.drained, "every row sent", timeout=60, every=0.1, alive=[second])
    assert await second.stop() == 0

    got = rig.delivered()
    assert set(got) == set(range(1, chats + 1)), f"never got the story: {sorted(set(range(1, chats + 1)) - set(got))}"
    twice = {chat for chat, times in got.items() if times > 1}
    assert max(got.values()) <= 2
    print(f"killed at {len(reached)} sent, {len(recorded)} recorded; sent twice: {len(twice)}")
    assert twice <= in_flight, f"sent twice though recorded or never sent before the kill: {sorted(twice - in_flight)}"
    assert rig.fake.errors == []
    assert set((await rig.statuses()).values()) == {"sent"}
    assert all(SCOOP.title in m.text for m in rig.fake.sent())
    for worker in (first, second):
        assert "Traceback" not in worker.log(), worker.log()[-4000:]


async def test_a_worker_killed_mid_correction_loses_no_edit(rig: Rig) -> None:
    chats = 300
    await rig.followers(chats)
    await rig.core.publisher.publish(SCOOP)
    sender = rig.start_worker("sender", telegram_rate_limit=200, delivery_lease_seconds=2)
    await eventually(rig.drained, "every push sent", timeout=60, every=0.1, alive=[sender])
    assert await sender.stop() == 0
    assert set(rig.delivered().values()) == {1} and len(rig.delivered()) == chats

    corrected = await rig.core.publisher.publish(replace(SCOOP, title="Grok, corrected", correction="A wrong date."))
    assert corrected.corrections_queued == chats
    first = rig.start_worker("first", telegram_rate_limit=40, delivery_lease_seconds=2)
    await eventually(lambda: len(rig.edited()) >= 100, "100 edits", timeout=60, every=0.005, alive=[first])
    os.kill(first.pid, signal.SIGKILL)
    assert await first.exited() == -signal.SIGKILL
    await rig.fake.wait_idle(quiet=0.5, timeout=10)
    reached = set(rig.edited())
    recorded = {chat for chat, status in (await rig.statuses("edit")).items() if status == "sent"}
    assert 100 <= len(reached) < chats, "the kill came too late to interrupt the edits"
    assert recorded <= reached

    second = rig.start_worker("second", telegram_rate_limit=40, delivery_lease_seconds=2)
    await eventually(rig.drained, "every edit done", timeout=60, every=0.1, alive=[second])
    assert await second.stop() == 0
    edited = rig.edited()
    assert set(edited) == set(range(1, chats + 1)), "a push kept the old version"
    repeated = {chat for chat, times in edited.items() if times > 1}
    assert repeated <= reached - recorded  # only an edit in flight at the kill was made again
    assert set(rig.delivered().values()) == {1}  # a correction never sends the story again
    assert set((await rig.statuses("edit")).values()) == {"sent"}
    latest = {m.chat_id: m for m in rig.fake.sent()}
    assert all("Grok, corrected" in m.text and "A wrong date." in m.text for m in latest.values())
    # A repeated edit answers "message is not modified", which is done, not an error.
    assert all("not modified" in (call.description or "") for call in rig.fake.errors)
    for worker in (sender, first, second):
        assert "Traceback" not in worker.log(), worker.log()[-4000:]


# ----- workers that come and go ----------------------------------------------------------------------------


# Several worker processes need PostgreSQL (row locks, LISTEN/NOTIFY): SQLite is one process's database.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_workers_divide_the_chats_take_over_from_a_dead_one_and_make_room_for_a_new_one(rig: Rig) -> None:
    chats, overall, lease = 900, 60, 3
    rig.fake.rate_limit(per_second_global=overall)  # the fake answers 429 above the bot's limit
    await rig.followers(chats)
    settings = {"telegram_rate_limit": overall, "delivery_lease_seconds": lease, "delivery_poll_seconds": 60}
    workers = [rig.start_worker(f"worker{i}", **settings) for i in range(3)]  # nothing set per process
    for worker in workers:
        await worker.ready()
    await asyncio.sleep(lease)  # they see each other: beats every second, a handover after a beat and a second
    published = await rig.core.publisher.publish(SCOOP)  # NOTIFY wakes them all at once
    assert published.deliveries_queued == chats
    began = time.monotonic()
    await eventually(lambda: len(rig.fake.sent()) >= 150, "150 sent", timeout=60, every=0.01, alive=workers)
    os.kill(workers[0].pid, signal.SIGKILL)  # a third of the chats lose their worker, for good
    assert await workers[0].exited() == -signal.SIGKILL
    await asyncio.sleep(0.5)  # what the dead one had on the wire has arrived; the others go on
    # Sent but not recorded: the dead worker's in flight, and the others' last half second.
    in_flight = set(rig.delivered()) - {chat for chat, status in (await rig.statuses()).items() if status == "sent"}
    newcomer = rig.start_worker("newcomer", **settings)  # joins mid fan-out
    await newcomer.ready()
    alive = [*workers[1:], newcomer]
    assert len(rig.fake.sent()) < chats * 3 // 4, "the newcomer came too late to take a share"
    await eventually(rig.drained, "every row sent", timeout=90, every=0.1, alive=alive)
    took = time.monotonic() - began
    assert [await worker.stop() for worker in alive] == [0, 0, 0]

    got = rig.delivered()
    assert set(got) == set(range(1, chats + 1)), f"never got the story: {sorted(set(range(1, chats + 1)) - set(got))}"
    twice = {chat for chat, times in got.items() if times > 1}
    assert twice <= in_flight and max(got.values()) <= 2, "sent twice beyond what was in flight at the kill"
    # Never over the bot's limit together: the fake would have answered 429.
    assert [c for c in rig.fake.calls if c.status == 429] == []
    # The dead worker's chats waited a lease at most, and the handovers a few seconds.
    assert took <= chats / overall + lease + 15, f"{took:.1f} s for {chats} chats at {overall}/s"
    # The newcomer took a share and sent part of the fan-out.
    log = newcomer.log()
    assert "3 worker(s) live" in log, log[-3000:]
    sent_by_newcomer = int(log.rsplit("pushes sent by this worker: ", 1)[1].split()[0])
    assert sent_by_newcomer > 0, log[-3000:]
    for worker in alive:
        assert "Traceback" not in worker.log(), worker.log()[-4000:]


# ----- the console chat gets its push ---------------------------------------------------------------------


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)
    into.put("")  # end of output


def test_the_console_prints_a_push_for_a_story_published_meanwhile(tmp_path: Path) -> None:
    """As a new user would run it: the default SQLite file under ./data, the samples seeded at first start."""
    env = clean_environ() | {"DELIVERY_POLL_SECONDS": "0.5"}
    with (tmp_path / "console.err").open("w") as errors:
        console = subprocess.Popen(
            [sys.executable, "-m", "bot", "console"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=tmp_path,
            env=env,
        )
    output: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(console.stdout, output), daemon=True)
    reader.start()
    seen: list[str] = []

    def read_until(*needles: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(needle in "".join(seen) for needle in needles):
            try:
                line = output.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no {needles} within {timeout} s; the console printed:\n{''.join(seen)}"
                ) from None
            assert line, (
                f"the console ended before printing {needles}:\n{''.join(seen)}\n{(tmp_path / 'console.err').read_text()}"
            )
            seen.append(line)

    try:
        assert console.stdin is not None
        console.stdin.write("/subscribe xAI\n")
        console.stdin.flush()
        read_until("Subscribed to #xAI", timeout=60)  # start-up seeded the samples, which bring the xAI tag
        assert (tmp_path / "data" / "explainer.db").exists()

        story = tmp_path / "scoop.md"
        story.write_text(
            "---\ntitle: Grok learns to explain itself\nsummary: The newest xAI model, simply.\ncategory: AI\n"
            "published_at: 2026-11-27T08:00:00Z\ntags: [xAI]\n---\nLead.\n"
        )
        published = subprocess.run(
            [sys.executable, "-m", "bot", "publish", str(story)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
        )
        assert published.returncode == 0, published.stderr
        assert "created   grok-learns-to-explain-itself: 1 deliveries queued" in published.stdout

        button = "[Explain] → /story grok-learns-to-explain-itself"  # the push's last line
        read_until("New story for you", button, timeout=20)
        push = "".join(seen).split("New story for you", 1)[1]
        assert "Grok learns to explain itself" in push and "The newest xAI model, simply." in push

        console.stdin.close()
        assert console.wait(timeout=30) == 0
        assert "Traceback" not in (tmp_path / "console.err").read_text()
    finally:
        if console.poll() is None:
            console.kill()
            console.wait(timeout=30)
        reader.join(timeout=10)  # it ends at the end of the output
        for stream in (console.stdin, console.stdout):
            if stream is not None and not stream.closed:
                stream.close()
