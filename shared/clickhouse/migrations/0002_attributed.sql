-- Attributed track events from topic <prefix>attributed (sign +1 asserts, -1 retracts an identical earlier row).
-- Same exactly-once scheme as exposures (src_partition/src_offset, one INSERT = one part).
--
-- per_unit: a unit's metric sums for one (experiment, event, variation), kept per part and merged with it:
--   events = sum(sign)                                 live attributed events (conversion c_u = events > 0)
--   k      = sum(sign * weight)                        count k_u = Σ w
--   x      = sum(sign * weight * coalesce(value, 0))   value x_u = Σ w·value (no value adds 0)
-- A retraction subtracts exactly what its assertion added. src_partition is a key too (a unit's records all
-- live in one Kafka partition, so it adds no rows): the sink restores the per-unit state of the partitions it
-- is assigned from here. variation is a key because a unit that changed variation carries rows of both until
-- the old ones are retracted. Queries must use these exact expressions to read it.
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
    src_offset    UInt64,
    PROJECTION per_unit
    (
        SELECT
            project,
            experiment,
            event,
            variation,
            unit,
            src_partition,
            sum(sign),
            sum(sign * weight),
            sum(sign * weight * coalesce(value, 0))
        GROUP BY project, experiment, event, variation, unit, src_partition
    ),
    PROJECTION offsets
    (
        SELECT src_partition, max(src_offset)
        GROUP BY src_partition
    )
)
ENGINE = MergeTree
ORDER BY (project, experiment, event, unit, timestamp)
SETTINGS non_replicated_deduplication_window = 1000
