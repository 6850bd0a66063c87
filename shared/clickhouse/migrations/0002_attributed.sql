-- Attributed track events from topic <prefix>attributed (sign +1 asserts, -1 retracts an identical row).
CREATE TABLE IF NOT EXISTS attributed
(
    project       LowCardinality(String),
    experiment    LowCardinality(String),
    unit          String,
    variation     LowCardinality(String),
    event_id      String,
    event         LowCardinality(String),
    timestamp     DateTime64(3, 'UTC'),
    weight        Float64,
    value         Nullable(Float64),
    sign          Int8,
    src_partition UInt32,
    src_offset    UInt64
)
ENGINE = MergeTree
ORDER BY (project, experiment, event, unit, timestamp)
SETTINGS non_replicated_deduplication_window = 1000
