"""The API's answers (``c360.shells.api.routes``) equal the warehouse's tables, value for value;
errors are one-line JSON with the documented status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from c360.config import CATEGORIES

Sql = Callable[..., list[dict[str, Any]]]


def _get(client: TestClient, url: str, status: int = 200) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, (url, response.text)
    body: dict[str, Any] = response.json()
    return body


def test_a_customer_is_its_customer_360_row(client: TestClient, sql: Sql) -> None:
    (row,) = sql("SELECT * FROM customer_360 WHERE user_id IS NOT NULL ORDER BY contract LIMIT 1")
    body = _get(client, f"/api/v1/customers/{row['contract']}")
    (run,) = sql("SELECT run_id FROM pipeline_runs ORDER BY started_at DESC LIMIT 1")
    assert body["served"]["run_id"] == run["run_id"]
    got = body["customer"]
    assert got["contract"] == row["contract"]
    assert got["seconds_by_category"] == {name: row[column] for name, column in CATEGORIES}
    seconds = sum(got["seconds_by_category"].values())
    assert seconds == got["total_duration"] == row["total_duration"]
    for column in ("active_days", "most_watch", "taste", "activeness", "level_activeness"):
        assert got[column] == row[column], column
    assert got["first_active"] == str(row["first_active"])
    assert got["scores"]["recency_score"] == row["recency_score"]
    assert got["segment"] == row["customer_type"]
    assert got["user_id"] == row["user_id"]
    assert got["search"]["trending_type"] == row["trending_type"]


def test_the_look_up_fast_path_answers_what_the_route_answers(
    client: TestClient, keyed: TestClient, sql: Sql
) -> None:
    from shells.api.conftest import KEY

    contracts = [r["contract"] for r in sql("SELECT contract FROM customer_360 LIMIT 5")]
    for contract in contracts:
        fast = client.get(f"/api/v1/customers/{contract}")
        routed = client.get(f"/api/v1/customers/{contract}?via=route")  # a query: no fast path
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content
        assert fast.headers["content-type"] == routed.headers["content-type"]
        assert fast.headers["x-content-type-options"] == "nosniff"
        keyed_fast = keyed.get(f"/api/v1/customers/{contract}", headers={"X-API-Key": KEY})
        assert keyed_fast.content == fast.content
        assert keyed.get(f"/api/v1/customers/{contract}").status_code == 401


def test_a_user_shows_their_taste_and_their_contracts(client: TestClient, sql: Sql) -> None:
    (row,) = sql("SELECT user_id FROM customer_360 WHERE user_id IS NOT NULL ORDER BY 1 LIMIT 1")
    body = _get(client, f"/api/v1/users/{row['user_id']}")
    contracts = sql(
        "SELECT contract FROM customer_360 WHERE user_id = ? ORDER BY 1", row["user_id"]
    )
    assert [c["contract"] for c in body["customers"]] == [c["contract"] for c in contracts]
    (stats,) = sql("SELECT * FROM customer_search_stats WHERE user_id = ?", row["user_id"])
    assert body["search"]["most_search_curr"] == stats["most_search_curr"]
    assert body["search"]["category_change"] == stats["category_change"]


@pytest.mark.parametrize(("name", "column"), [("segment", "customer_type"),
                                              ("activeness", "activeness"),
                                              ("level", "level_activeness")])  # fmt: skip
def test_distributions_count_every_customer(
    client: TestClient, sql: Sql, name: str, column: str
) -> None:
    body = _get(client, f"/api/v1/distributions/{name}")
    expected = sql(f"SELECT {column} AS value, count(*) AS n FROM customer_360 GROUP BY 1")
    assert {r["value"]: r["customers"] for r in body["rows"]} == {
        r["value"]: r["n"] for r in expected
    }
    customers = [r["customers"] for r in body["rows"]]
    assert customers == sorted(customers, reverse=True)


def test_the_rf_grid_counts_every_scored_customer(client: TestClient, sql: Sql) -> None:
    cells = _get(client, "/api/v1/rf")["cells"]
    expected = sql(
        "SELECT recency_score AS r, frequency_score AS f, count(*) AS n FROM customer_360 "
        "GROUP BY 1, 2 ORDER BY 1, 2"
    )
    assert [(c["recency"], c["frequency"], c["customers"]) for c in cells] == [
        (r["r"], r["f"], r["n"]) for r in expected
    ]


def test_segment_pages_cover_its_members_once_in_order(client: TestClient, sql: Sql) -> None:
    (largest,) = sql(
        "SELECT customer_type AS s FROM customer_360 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )
    segment = largest["s"]
    expected = [r["contract"] for r in sql(
        "SELECT contract FROM customer_360 WHERE customer_type = ? ORDER BY 1", segment
    )]  # fmt: skip
    assert len(expected) > 7
    seen: list[str] = []
    url = f"/api/v1/segments/{segment}/customers?limit=7"
    while True:
        body = _get(client, url)
        seen += [c["contract"] for c in body["customers"]]
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/segments/{segment}/customers?limit=7&cursor={body['next_cursor']}"
    assert seen == expected


def test_top_apps_usage_and_quarantine_are_the_tables(client: TestClient, sql: Sql) -> None:
    apps = _get(client, "/api/v1/apps/top?limit=3")["apps"]
    expected = sql("SELECT * FROM top_apps ORDER BY rank LIMIT 3")
    assert [(a["app_name"], a["total_duration"], a["contracts"]) for a in apps] == [
        (r["app_name"], r["total_duration"], r["contracts"]) for r in expected
    ]
    (first,) = sql("SELECT min(date) AS d FROM daily_category_usage")
    rows = _get(client, f"/api/v1/usage?from={first['d']}&to={first['d']}")["rows"]
    expected = sql("SELECT * FROM daily_category_usage WHERE date = ?", first["d"])
    assert sorted((r["category"], r["total_duration"]) for r in rows) == sorted(
        (r["category"], r["total_duration"]) for r in expected
    )
    counts = _get(client, "/api/v1/quarantine")["counts"]
    by_reason = sql("SELECT reason, count(*) AS n FROM quarantine_content GROUP BY 1")
    assert {c["reason"]: c["rows"] for c in counts if c["source"] == "content"} == {
        r["reason"]: r["n"] for r in by_reason
    }


def test_search_trends_are_the_months_top_keywords(client: TestClient, sql: Sql) -> None:
    body = _get(client, "/api/v1/search/trends?limit=5")
    (latest,) = sql("SELECT max(month) AS m FROM search_monthly_top")
    assert body["month"] == latest["m"]
    expected = Counter(
        r["most_search"]
        for r in sql("SELECT most_search FROM search_monthly_top WHERE month = ?", latest["m"])
    )
    top = body["keywords"][0]
    assert top["users"] == max(expected.values()) == expected[top["keyword"]]
    assert sum(g["users"] for g in body["genres"]) == sum(expected.values())
    assert abs(sum(g["share"] for g in body["genres"]) - 1) < 0.01
    (stats,) = sql("SELECT count(*) AS n FROM customer_search_stats")
    assert sum(f["users"] for f in body["flows"]) == stats["n"]


def test_a_keyword_is_found_however_it_is_typed(client: TestClient, sql: Sql) -> None:
    (row,) = sql("SELECT * FROM keyword_category WHERE keyword_norm LIKE '% %' ORDER BY 1 LIMIT 1")
    typed = "  " + row["keyword_norm"].upper().replace(" ", "   ") + " "
    body = _get(client, f"/api/v1/keywords/{typed}")
    assert body["keyword"]["keyword_norm"] == row["keyword_norm"]
    assert body["keyword"]["category"] == row["category"]


def test_runs_and_their_checks(client: TestClient, sql: Sql) -> None:
    runs = _get(client, "/api/v1/runs")["runs"]
    (run,) = sql("SELECT * FROM pipeline_runs")
    assert [r["run_id"] for r in runs] == [run["run_id"]]
    assert runs[0]["rows_read"] == run["rows_read"]
    checks = _get(client, "/api/v1/runs/latest/checks")
    stored = sql("SELECT status FROM dq_results WHERE run_id = ?", run["run_id"])
    assert len(checks["checks"]) == len(stored)
    order = {"fail": 0, "warn": 1, "skipped": 2, "pass": 3}
    ranks = [order[c["status"]] for c in checks["checks"]]
    assert ranks == sorted(ranks)
    assert _get(client, f"/api/v1/runs/{run['run_id']}/checks")["run_id"] == run["run_id"]


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/v1/customers/XX99999999", 404, "no customer with contract 'XX99999999'"),
        ("/api/v1/customers/hn-1'%20OR%201=1", 422, "contract: String should match pattern"),
        ("/api/v1/users/abc", 422, "user_id: String should match pattern"),
        ("/api/v1/users/999999999999", 404, "no user"),
        ("/api/v1/segments/royalty/customers", 404, "no segment 'royalty'"),
        ("/api/v1/segments/loyal/customers?cursor=%25%25", 422, "cursor"),
        ("/api/v1/apps/top?limit=1000000", 422, "limit"),
        ("/api/v1/apps/top?limit=-5", 422, "limit"),
        ("/api/v1/usage?from=2022-04-09&to=2022-04-01", 422, "is after"),
        ("/api/v1/usage?from=yesterday", 422, "from"),
        ("/api/v1/search/trends?month=1999-01", 404, "no search month"),
        ("/api/v1/search/trends?month=2022-13", 422, "month"),
        ("/api/v1/keywords/%20%20", 404, "empty"),
        ("/api/v1/keywords/zzzz-never-searched", 404, "was not searched"),
        ("/api/v1/runs/nope/checks", 404, "no run 'nope'"),
        ("/api/v1/distributions/height", 422, "name"),
        ("/api/v1/nothing", 404, "Not Found"),
    ],
)
def test_bad_requests_get_one_line_json(
    client: TestClient, url: str, status: int, says: str
) -> None:
    body = _get(client, url, status)
    assert body["status"] == status and says in body["error"], body
    assert "\n" not in body["error"] and "Traceback" not in body["error"]


def test_health_and_readiness(client: TestClient, sql: Sql) -> None:
    assert _get(client, "/healthz") == {"status": "ok"}
    ready = _get(client, "/readyz")
    (run,) = sql("SELECT run_id FROM pipeline_runs")
    assert ready["ready"] is True and ready["run_id"] == run["run_id"] and ready["error"] is None


def test_live_before_any_stream_is_empty_not_an_error(client: TestClient) -> None:
    answer = client.get("/api/v1/live")
    assert answer.status_code == 200
    assert answer.json() == {"batch": None, "leaderboard": [], "usage": []}


def test_live_limits_are_checked(client: TestClient) -> None:
    answer = client.get("/api/v1/live?limit=0")
    assert answer.status_code == 422 and "limit" in answer.json()["error"]
