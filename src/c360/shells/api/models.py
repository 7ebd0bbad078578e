"""The API's response models: what each endpoint answers, as the OpenAPI document shows it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Served(BaseModel):
    """The publish an answer comes from: every part of one answer comes from the same one."""

    run_id: str | None = Field(description="The latest run in the served publish.")
    publish_id: str | None = Field(description="The warehouse publish served.")


class Error(BaseModel):
    """Every error: a status and a one-line message, never a traceback."""

    status: int
    error: str


class Scores(BaseModel):
    recency_days: int | None
    recency_score: int | None = Field(description="1 (least recent) … 4 (most recent).")
    frequency_score: int | None
    monetary_score: int | None


class SearchProfile(BaseModel):
    """A user's search taste: the previous and the current month's top keyword and genre."""

    most_search_prev: str | None
    category_prev: str | None
    most_search_curr: str | None
    category_curr: str | None
    trending_type: str | None = Field(description="Unchanged, Changed, New or Lapsed.")
    category_change: str | None


class Profile(BaseModel):
    """A customer (contract): content profile, scores, segment and search taste."""

    contract: str
    seconds_by_category: dict[str, int]
    total_duration: int = Field(description="Seconds watched in the window.")
    active_days: int
    most_watch: str | None
    taste: str | None
    activeness: str | None = Field(description="Five levels, from very low to very high.")
    level_activeness: str | None = Field(description="Three levels: Low, Medium, High.")
    devices: int | None
    first_active: date | None
    last_active: date | None
    scores: Scores
    segment: str | None = Field(description="The RFM/IQR customer type.")
    user_id: str | None = Field(description="The search user the bridge maps it to.")
    search: SearchProfile | None


class CustomerAnswer(BaseModel):
    served: Served
    customer: Profile


class UserAnswer(BaseModel):
    served: Served
    user_id: str
    search: SearchProfile | None
    customers: list[Profile]


class DistributionRow(BaseModel):
    value: str | None
    customers: int
    hours: float


class DistributionAnswer(BaseModel):
    served: Served
    name: str
    rows: list[DistributionRow]


class RfCell(BaseModel):
    recency: int = Field(description="Recency score, 1 (least recent) … 4.")
    frequency: int = Field(description="Frequency score, 1 … 4.")
    customers: int


class RfAnswer(BaseModel):
    served: Served
    cells: list[RfCell]


class Member(BaseModel):
    contract: str
    total_duration: int
    active_days: int
    activeness: str | None
    recency_days: int | None


class SegmentAnswer(BaseModel):
    served: Served
    segment: str
    customers: list[Member]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: end.")


class App(BaseModel):
    app_name: str
    category: str | None
    total_duration: int
    records: int
    contracts: int
    rank: int


class TopAppsAnswer(BaseModel):
    served: Served
    apps: list[App]


class UsageRow(BaseModel):
    date: date
    category: str
    total_duration: int
    records: int
    contracts: int


class UsageAnswer(BaseModel):
    served: Served
    rows: list[UsageRow]


class KeywordCount(BaseModel):
    keyword: str | None
    category: str | None
    users: int = Field(description="Users whose most searched keyword of the month it is.")
    searches: int


class GenreShare(BaseModel):
    genre: str
    users: int
    share: float


class Flow(BaseModel):
    source: str = Field(description="The previous month's genre (None: no search).")
    target: str
    users: int


class TrendsAnswer(BaseModel):
    served: Served
    months: list[str]
    month: str | None
    keywords: list[KeywordCount]
    genres: list[GenreShare]
    flows: list[Flow]


class Keyword(BaseModel):
    keyword_norm: str
    category: str
    source: str | None
    confidence: float | None
    version: str | None
    decided_at: datetime | None


class KeywordAnswer(BaseModel):
    served: Served
    keyword: Keyword


class Run(BaseModel):
    run_id: str
    command: str | None
    engine: str | None
    status: str
    window_start: date | None
    window_end: date | None
    files_found: int | None
    files_ingested: int | None
    rows_read: int | None
    rows_accepted: int | None
    rows_quarantined: int | None
    contracts_profiled: int | None
    checks_failed: int | None
    checks_warned: int | None
    failed_stage: str | None
    error: str | None
    timings: str | None
    started_at: datetime | None
    finished_at: datetime | None


class RunsAnswer(BaseModel):
    served: Served
    runs: list[Run]


class Check(BaseModel):
    stage: str
    check_name: str
    table_name: str | None
    subject: str | None
    observed: float | None
    threshold: float | None
    severity: str
    status: str
    message: str | None


class ChecksAnswer(BaseModel):
    served: Served
    run_id: str
    checks: list[Check]


class QuarantineCount(BaseModel):
    source: str
    reason: str | None
    rows: int


class QuarantineAnswer(BaseModel):
    served: Served
    counts: list[QuarantineCount]


class LiveSong(BaseModel):
    rank: int
    song: str
    total_votes: int
    votes_1m: int = Field(description="Votes in the last minute of event time.")
    votes_10m: int = Field(description="Votes in the last 10 minutes of event time.")


class LiveMinute(BaseModel):
    category: str
    minute: datetime = Field(description="Minute of event time (UTC).")
    total_duration: int
    events: int


class LiveBatch(BaseModel):
    """The stream processor's last committed micro-batch."""

    batch_id: int
    committed_at: datetime = Field(description="When it was committed (UTC).")
    age_s: float = Field(description="Seconds since then: how stale the live tables are.")
    clock: datetime | None = Field(description="The latest event time counted (UTC).")
    events_per_s: float | None = Field(description="Events processed per second recently.")
    events: int = Field(description="Events read by every batch so far.")
    counted: int
    duplicates: int
    quarantined: int


class LiveAnswer(BaseModel):
    """The streaming leaderboard and live usage as last published (no batch yet: empty)."""

    batch: LiveBatch | None
    leaderboard: list[LiveSong]
    usage: list[LiveMinute]


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    warehouse: str
    run_id: str | None
    publish_id: str | None
    published_at: str | None
    loaded_at: datetime | None
    error: str | None
    online: str | None = Field(
        default=None, description="The online store (Redis) and its state, when one is used."
    )
