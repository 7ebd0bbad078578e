"""The serving use cases behind ``c360 serve``: each answer comes from one snapshot (one
publish) and says which."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from c360.config import C360Config
from c360.errors import InputError, NotFoundError, OutputError, TransientError
from c360.serving import queries
from c360.serving.online import OnlineStore
from c360.serving.snapshot import ServedWarehouse, ServingStatus, Snapshot

T = TypeVar("T")
log = logging.getLogger("c360.serve")
#: Profile columns a distribution may be asked for, by the name the API uses.
DISTRIBUTIONS = {
    "segment": "customer_type",
    "activeness": "activeness",
    "level": "level_activeness",
}


@dataclass(frozen=True)
class Answer:
    """What a question returned, and the publish it came from."""

    data: Any
    run_id: str | None
    publish_id: str | None


class Service:
    """Questions about the served warehouse (see :mod:`c360.serving.queries`)."""

    def __init__(
        self, served: ServedWarehouse, config: C360Config, *, online: OnlineStore | None = None
    ) -> None:
        self.served = served
        self.config = config
        #: Where profile look-ups are answered first, if anywhere; the warehouse stands in for
        #: it when it is down (``status().online`` says so).
        self.online = online
        self._online_down = False
        self._live: dict[str, Any] | None = None
        self._contract = re.compile(config.content.contract_pattern)
        self._user = re.compile(config.search.user_pattern)

    def __enter__(self) -> Service:
        self.served.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.served.stop()

    def _ask(self, question: Callable[[Snapshot], T]) -> Answer:
        snapshot = self.served.current()
        return Answer(question(snapshot), snapshot.run_id, snapshot.publish_id)

    def status(self) -> ServingStatus:
        status = self.served.status()
        if self.online is not None:
            try:
                current = self.online.current()
                status.online = (
                    f"{self.online.describe()}: publish {current[0]}"
                    if current
                    else f"{self.online.describe()}: nothing published online yet"
                )
            except TransientError as exc:
                status.online = f"unavailable, answering from the warehouse: {exc}"
        return status

    # -- checks of what is asked --------------------------------------------------------------

    def valid_contract(self, contract: str) -> str:
        if not self._contract.fullmatch(contract):
            raise InputError(
                f"{contract!r} is not a contract id (pattern {self._contract.pattern})"
            )
        return contract

    def valid_user(self, user_id: str) -> str:
        if not self._user.fullmatch(user_id):
            raise InputError(f"{user_id!r} is not a user id (pattern {self._user.pattern})")
        return user_id

    # -- questions ----------------------------------------------------------------------------

    def customer_json(self, contract: str) -> Answer:
        """A contract's profile as JSON text: from the online store when there is one and it
        answers, else from the snapshot."""
        contract = self.valid_contract(contract)
        found = self._online_lookup(contract)
        if found is None:
            return self._ask(lambda s: queries.profile_json(queries.customer(s, contract)))
        publish_id, run_id, text = found
        if text is None:
            raise NotFoundError(f"no customer with contract {contract!r} in the served run")
        return Answer(text, run_id, publish_id)

    def _online_lookup(self, contract: str) -> tuple[str, str | None, str | None] | None:
        """The online store's answer; None when there is no store, nothing published online,
        or the store is down (said once per outage in the log, and in ``status()``)."""
        if self.online is None:
            return None
        try:
            found = self.online.lookup(contract)
        except TransientError as exc:
            if not self._online_down:
                log.warning("%s; answering from the warehouse", exc)
            self._online_down = True
            return None
        if self._online_down:
            log.warning("online store %s answers again", self.online.describe())
        self._online_down = False
        return found

    def customer(self, contract: str) -> Answer:
        """A contract's profile (as :meth:`customer_json`, parsed)."""
        answer = self.customer_json(contract)
        return Answer(json.loads(answer.data), answer.run_id, answer.publish_id)

    def user(self, user_id: str) -> Answer:
        user_id = self.valid_user(user_id)
        return self._ask(lambda s: queries.user(s, user_id))

    def distribution(self, name: str) -> Answer:
        column = DISTRIBUTIONS.get(name)
        if column is None:
            raise InputError(f"no distribution {name!r}; one of {', '.join(DISTRIBUTIONS)}")
        return self._ask(lambda s: queries.distribution(s, column))

    def rf_grid(self) -> Answer:
        return self._ask(queries.rf_grid)

    def segment_members(self, segment: str, *, limit: int, cursor: str | None) -> Answer:
        from c360.rules.content import CUSTOMER_TYPES

        if segment not in CUSTOMER_TYPES:
            raise NotFoundError(f"no segment {segment!r}; one of {', '.join(CUSTOMER_TYPES)}")
        return self._ask(lambda s: queries.segment_members(s, segment, limit=limit, cursor=cursor))

    def top_apps(self, *, limit: int) -> Answer:
        return self._ask(lambda s: queries.top_apps(s, limit=limit))

    def usage(self, *, start: date | None, end: date | None) -> Answer:
        if start and end and start > end:
            raise InputError(f"from {start} is after to {end}")
        return self._ask(lambda s: queries.usage(s, start=start, end=end))

    def search_trends(self, *, month: str | None, limit: int) -> Answer:
        if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise InputError(f"month {month!r} is not YYYY-MM")
        return self._ask(lambda s: queries.search_trends(s, month=month, limit=limit))

    def keyword(self, text: str) -> Answer:
        return self._ask(lambda s: queries.keyword(s, text))

    def runs(self, *, limit: int) -> Answer:
        return self._ask(lambda s: queries.runs(s, limit=limit))

    def checks(self, run_id: str | None) -> Answer:
        return self._ask(lambda s: queries.checks(s, run_id))

    def quarantine(self) -> Answer:
        return self._ask(queries.quarantine)

    # -- live (the stream processor's tables, read as published) -------------------------------

    def live(self, *, limit: int, minutes: int) -> dict[str, Any]:
        """The live tables as the stream processor last published them: read from the
        warehouse at each call (they change every few seconds, apart from any run). A reading
        that the processor's write blocks answers the previous reading."""
        try:
            tables = {
                name: self.served.sink.read(name)
                for name in ("live_leaderboard", "live_batches", "live_usage")
            }
        except TransientError:
            if self._live is not None:
                return self._live
            raise
        except OutputError:  # no live table yet: nothing streamed into this warehouse
            return {"batch": None, "leaderboard": [], "usage": []}
        self._live = queries.live(tables, limit=limit, minutes=minutes)
        return self._live
