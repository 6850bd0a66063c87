-- The stats service's alerts (services/stats/README.md, "Alerts"): one row per transition, `raised` then, when
-- the condition ends, `cleared`, both with the alert's id. Open alerts (a raised without a cleared) are
-- loaded back when the service starts, and GET /v1/alerts lists open and past alerts per project from here.
-- `metric` is '' for SRM; `details` the JSON figures of the evaluation that decided the transition. A row
-- stored twice (a retried insert whose first attempt did land) is harmless: readers group by id.
-- Small by nature (transitions, not data), so no TTL: past alerts are the record.
-- IF NOT EXISTS: idempotent, like every migration (two processes may start together).
CREATE TABLE IF NOT EXISTS alerts
(
    project    LowCardinality(String),
    experiment String,
    kind       LowCardinality(String),
    metric     String,
    id         String,
    state      LowCardinality(String),
    at         DateTime64(3, 'UTC'),
    raised_at  DateTime64(3, 'UTC'),
    details    String
)
ENGINE = MergeTree
ORDER BY (project, id, state)
