"""The bot and its updates: getMe, close and logOut, getUpdates (long polls, offsets,
allowed_updates, the 409 when another poll or a webhook takes over), setWebhook,
deleteWebhook and getWebhookInfo, and the loop that posts pending updates to a
webhook in order, retrying failures. Polling and webhooks share the pending queue,
which is why they live together."""

from __future__ import annotations

import asyncio
import copy
import re
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout

from ..constants import SECRET_HEADER, SUPERSEDED_GRACE
from ..errors import ApiError, bad_request
from ..observed import WebhookDelivery
from ..plumbing import _int_param, _wait

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class UpdateMethodsMixin:
    """FakeTelegram's getMe, getUpdates and webhook methods, and the webhook delivery loop."""

    # ----- methods: the bot and its updates --------------------------------------------------------
    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _trivial(self, params: dict[str, Any]) -> bool:
        return True

    def _set_allowed(self, allowed: Any) -> None:
        """allowed_updates is remembered until changed; [] means Telegram's default."""
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed updates JSON object")
        self._allowed = set(allowed) or None

    def _confirm(self, offset: int) -> None:
        """An offset forgets the updates before it; a negative one keeps the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._set_allowed(params["allowed_updates"])
        self._confirm(_int_param(params, "offset", 0))
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        deadline = time.monotonic() + max(_int_param(params, "timeout", 0), 0)
        ticket = self._supersede_polls(
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
        )
        while True:
            changed = self._changed
            if ticket != self._poll_ticket:
                await asyncio.sleep(SUPERSEDED_GRACE)
                raise ApiError(409, self._poll_conflict)
            if self._pending or self._stopping or time.monotonic() >= deadline:
                return copy.deepcopy(self._pending[:limit])
            await _wait(changed, deadline - time.monotonic())

    def _supersede_polls(self, conflict: str) -> int:
        """Ends any waiting getUpdates with a 409, as Telegram does; returns the new ticket."""
        self._poll_ticket += 1
        self._poll_conflict = conflict
        self._notify()
        return self._poll_ticket

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if url == "":
            return await self._delete_webhook(params)  # Telegram: an empty url removes the webhook
        parts = urlsplit(url) if isinstance(url, str) else None
        # Telegram wants HTTPS on 443/80/88/8443; tests receive on plain HTTP at any port.
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_TOKEN.fullmatch(secret)):
            raise bad_request("secret token contains unallowed characters")
        connections = _int_param(params, "max_connections", 40)
        if not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if "allowed_updates" in params:
            self._set_allowed(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {k: v for k, v in params.items() if k != "certificate"} | {"max_connections": connections}
        self._webhook_error = None
        self._supersede_polls("Conflict: terminated by setWebhook request")
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        self._notify()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._pending)}
        if self.webhook is not None:
            info.update(url=self.webhook["url"], max_connections=self.webhook["max_connections"])
            if self._allowed is not None:
                info["allowed_updates"] = sorted(self._allowed)
        if self._webhook_error is not None:
            info.update(last_error_date=self._webhook_error[0], last_error_message=self._webhook_error[1])
        return info

    # ----- webhook delivery ------------------------------------------------------------------------
    async def _webhook_loop(self) -> None:
        """Posts pending updates to the webhook one at a time, in order, retrying failures."""
        failures = 0
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while not self._stopping:
                changed = self._changed
                if self.webhook is None or not self._pending:
                    await changed.wait()
                    continue
                if await self._deliver(session, self.webhook, self._pending[0]):
                    failures = 0
                else:
                    failures += 1
                    await asyncio.sleep(min(2.0, 0.05 * 2**failures))

    async def _deliver(self, session: ClientSession, hook: dict[str, Any], update: dict[str, Any]) -> bool:
        headers = {SECRET_HEADER: hook["secret_token"]} if hook.get("secret_token") else {}
        status, error = 0, None
        self._deliveries_in_flight += 1
        self._touch()
        try:
            async with session.post(hook["url"], json=update, headers=headers) as response:
                await response.read()
                status = response.status
                if status >= 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (ClientError, TimeoutError) as exc:
            error = str(exc) or type(exc).__name__
        finally:
            self._deliveries_in_flight -= 1
            self._touch()
        self.webhook_deliveries.append(
            WebhookDelivery(update["update_id"], hook["url"], status, time.monotonic(), error)
        )
        if error is None:
            self._pending = [u for u in self._pending if u is not update]
        else:
            self._webhook_error = (int(time.time()), error)
        self._notify()
        return error is None
