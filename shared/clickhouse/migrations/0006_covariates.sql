-- Pre-exposure track events from topic <prefix>covariates, the inputs of CUPED covariates (docs/semantics.md,
-- "Variance reduction (CUPED)"; schemas/covariate-event.avsc). A signed changelog like attributed: -1 retracts an
-- identical earlier +1 (a late earlier exposure or an alias merge moved the first exposure the row was derived
-- against), so sum(sign) per row identity is 0 or 1 and is the truth, merged or not. Same exactly-once scheme as
-- exposures and attributed (src_partition/src_offset, one INSERT = one part; services/sink/README.md).
--
-- No per-unit projection: a metric's own lookback P is applied when reading, as
-- timestamp >= first_exposure_at - INTERVAL P DAY, so per-unit sums depend on the query. The sort key puts one
-- metric's rows of one experiment together, as in attributed.
--   offsets: the sink's resume point per Kafka partition without scanning the table.
CREATE TABLE IF NOT EXISTS covariates
(
    project           LowCardinality(String),
    experiment        LowCardinality(String),
    unit              String,
    variation         LowCardinality(String),
    first_exposure_at DateTime64(3, 'UTC'),
    event_id          String,
    event             LowCardinality(String),
    timestamp         DateTime64(3, 'UTC'),
    weight            Float64,
    value             Nullable(Float64),
    sign              Int8,
    src_partition     UInt32,
    src_offset        UInt64,
    PROJECTION offsets
    (
        SELECT src_partition, max(src_offset)
        GROUP BY src_partition
    )
)
ENGINE = MergeTree
ORDER BY (project, experiment, event, unit, timestamp)
SETTINGS non_replicated_deduplication_window = 1000
