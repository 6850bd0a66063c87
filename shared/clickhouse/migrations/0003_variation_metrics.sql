-- Per-variation sufficient statistics of every (experiment, metric), maintained incrementally by the sink so
-- that results cost O(variations) whatever the number of units. Each row is the change one sink insert made:
-- for every unit whose totals (events e, count k, value x) changed from (e, k, x) to (e', k', x'),
--   conversions  += [e' > 0] - [e > 0]      sum_value    += x' - x      sum_value_sq += x'^2 - x^2
--   sum_count    += k' - k                  sum_count_sq += k'^2 - k^2
-- so summing all rows gives Σ c_u, Σ x_u, Σ x_u², Σ k_u, Σ k_u² over the units with events (units without any
-- add 0; n comes from exposures). src_partition/src_offset: the highest attributed record the row accounts for,
-- which is how the sink applies each record exactly once (services/sink/README.md).
CREATE TABLE IF NOT EXISTS variation_metrics
(
    project       LowCardinality(String),
    experiment    LowCardinality(String),
    event         LowCardinality(String),
    variation     LowCardinality(String),
    conversions   Int64,
    sum_value     Float64,
    sum_value_sq  Float64,
    sum_count     Float64,
    sum_count_sq  Float64,
    src_partition UInt32,
    src_offset    UInt64,
    PROJECTION per_variation
    (
        SELECT project, experiment, event, variation,
               sum(conversions), sum(sum_value), sum(sum_value_sq), sum(sum_count), sum(sum_count_sq)
        GROUP BY project, experiment, event, variation
    ),
    PROJECTION offsets
    (
        SELECT src_partition, max(src_offset)
        GROUP BY src_partition
    )
)
ENGINE = MergeTree
ORDER BY (project, experiment, event, variation)
SETTINGS non_replicated_deduplication_window = 1000
