"""REST routes about the bot itself: the current user, other users, opening a DM, the
application (with the flags that tell discord.py which privileged intents are on),
and the gateway URL with its shard recommendation."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, unknown
from ..helpers import _as_int
from ..state import _User


class UserRoutesMixin:
    """FakeDiscord's /users, /applications/@me and /gateway routes."""

    # ----- REST: users, application, gateway ---------------------------------------------------------------
    async def _get_me(self, **_: Any) -> dict[str, Any]:
        return self._bot_json() | {"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}

    async def _get_user(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        user = self._users.get(self._snowflake(params, "user_id"))
        if user is None:
            raise unknown("User", 10013)
        return user.json()

    async def _open_dm(self, body: Any, **_: Any) -> dict[str, Any]:
        user_id = _as_int((body or {}).get("recipient_id")) if isinstance(body, dict) else None
        if user_id is None or user_id not in self._users or user_id == self.bot_user_id:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        if user_id not in self._dms:
            self.open_dm(user_id, self._ids.next())
        return self._channel_json(self._channels[self._dms[user_id]])

    async def _get_application(self, **_: Any) -> dict[str, Any]:
        owner = _User(self.app_owner_id, "app-owner").json()
        return {
            "id": str(self.application_id),
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": owner,
            "team": None,
            "flags": self._application_flags(),
            "bot": self._bot_json(),
            "interactions_endpoint_url": None,  # else discord.py warns no events arrive
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": len(self._guilds),
            "integration_types_config": {"0": {}},
        }

    async def _get_gateway(self, **_: Any) -> dict[str, Any]:
        return {"url": self.ws_url}

    async def _get_gateway_bot(self, **_: Any) -> dict[str, Any]:
        return {
            "url": self.ws_url,
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": self._session_starts,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }
