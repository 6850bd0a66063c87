-- Attributed track events from topic <prefix>attributed (sign +1 asserts, -1 retracts an identical earlier row).
-- Same exactly-once scheme as exposures (src_partition/src_offset, one INSERT = one part).
--
-- per_unit: a unit's metric sums for one (experiment, event), kept per part and merged with the part:
--   events = sum(sign)                          live attributed events (conversion c_u = events > 0)
--   k      = sum(sign * weight)                 count k_u = Σ w
--   x      = sum(sign * weight * coalesce(value, 0))   value x_u = Σ w·value (no value adds 0)
-- A retraction subtracts exactly what its assertion added. The unit key is a 128-bit hash of (variation, unit):
-- grouping by a fixed-width key is markedly cheaper than by the id string, and a collision among even 10^9
-- units has probability ~10^-21. variation is part of the key because a unit that changed variation carries
-- rows of both until the old ones are retracted. Queries must use these exact expressions to read it.
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
            sipHash128(variation, unit),
            any(variation),
            sum(sign),
            sum(sign * weight),
            sum(sign * weight * coalesce(value, 0))
        GROUP BY project, experiment, event, sipHash128(variation, unit)
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
