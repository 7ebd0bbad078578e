"""The unified customer view (SPEC 2.8): content profile joined to search profile via the bridge."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from c360.rules.content import STATS_COLUMNS

#: Search columns of ``customer_360`` (from ``customer_search_stats``), after the profile's.
SEARCH_COLUMNS = (
    "most_search_prev",
    "category_prev",
    "most_search_curr",
    "category_curr",
    "trending_type",
    "category_change",
)


def customer_360(
    profile: ir.Table, search_stats: ir.Table | None, bridge: ir.Table | None
) -> ir.Table:
    """One row per profiled contract; its user's search profile where the bridge maps it.

    Args:
        profile: ``customer_content_stats``.
        search_stats: ``customer_search_stats`` (None: no search logs in the run).
        bridge: ``contract, user_id`` pairs (None: no bridge; the search columns stay null —
            the two logs share no key, and no other join is made).

    A contract mapped to several users takes the smallest ``user_id`` that has a search
    profile, else the smallest one.
    """
    columns = [profile[c] for c in STATS_COLUMNS]
    if search_stats is None or bridge is None:
        return profile.select(
            *columns,
            user_id=ibis.null("string"),
            **{c: ibis.null("string") for c in SEARCH_COLUMNS},
        )
    pairs = bridge.select("contract", "user_id").distinct()
    stats = search_stats.select("user_id", *SEARCH_COLUMNS)
    linked = pairs.left_join(stats, pairs.user_id == stats.user_id)
    order = [linked.most_search_prev.isnull() & linked.most_search_curr.isnull(), linked.user_id]
    rank = ibis.row_number().over(group_by=linked.contract, order_by=order)
    chosen = linked.filter(rank == 0).select("contract", "user_id", *SEARCH_COLUMNS)
    chosen = chosen.rename(_contract="contract")
    joined = profile.left_join(chosen, profile.contract == chosen._contract)
    return joined.select(
        *[joined[c] for c in STATS_COLUMNS],
        user_id=joined.user_id,
        **{c: joined[c] for c in SEARCH_COLUMNS},
    )
