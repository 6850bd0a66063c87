-- The gateways' per-project ingest outcome reports (topic `<prefix>ingest-reports`, written by
-- services/gateway/src/ingest-reports/, stored by services/stats/src/ingest-reports/): per report, the events
-- one gateway process accepted, rejected (by code) and dropped (by reason) in [window_start, window_end].
-- (gateway_id, seq) identifies a report: a record consumed twice (offsets are committed after the insert) or
-- resent by the gateway after a lost acknowledgement is the same row, so ReplacingMergeTree on that key keeps
-- one. Merges remove duplicates eventually; readers use FINAL to be exact before then (a small table).
-- TTL: GET /v1/ingest/summary reaches back 720 hours (30 days); older rows are of no use.
-- IF NOT EXISTS: idempotent, like every migration (two processes may start together).
CREATE TABLE IF NOT EXISTS ingest_reports
(
    project      LowCardinality(String),
    gateway_id   String,
    seq          UInt64,
    window_start DateTime64(3, 'UTC'),
    window_end   DateTime64(3, 'UTC'),
    accepted     UInt64,
    rejected     Map(String, UInt64),
    dropped      Map(String, UInt64)
)
ENGINE = ReplacingMergeTree
ORDER BY (project, gateway_id, seq)
TTL toDateTime(window_end) + INTERVAL 31 DAY
