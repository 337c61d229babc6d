"""Settings: .env.example documents every setting and loads as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_env_example_lists_every_setting_with_a_comment() -> None:
    text = EXAMPLE.read_text()
    names = set(re.findall(r"^([A-Z_]+)=", text, flags=re.M))
    assert names == {name.upper() for name in Settings.model_fields}
    for name in names:  # each setting follows a comment line or another setting of its group
        before = text.split(f"\n{name}=")[0].rstrip().splitlines()[-1]
        assert before.startswith("#") or re.match(r"[A-Z_]+=", before), name


def test_env_example_loads_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = load_settings(EXAMPLE)
    assert settings.telegram_bot_token is None and settings.discord_shard_count is None
    assert settings.discord_guild_ids == () and settings.api_port == 8080


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("API_PORT", "99999", "API_PORT"),
        ("TELEGRAM_MODE", "carrier-pigeon", "TELEGRAM_MODE"),
        ("DISCORD_GUILD_IDS", "12,abc", "DISCORD_GUILD_IDS"),
        ("SITE_URL", "ftp://x", "SITE_URL"),
        ("COMMAND_RATE_LIMIT", "0", "COMMAND_RATE_LIMIT"),
    ],
)
def test_invalid_settings_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    assert words in str(caught.value) and "\n" not in str(caught.value)
