-- Per-unit metric sums, maintained on insert so results never scan raw events. Signs make it exact:
-- a retraction subtracts exactly what its assertion added. Summed again at query time (merges are lazy).
--   events = number of live attributed events (conversion c_u = events > 0)
--   weight = Σ w (count k_u),  value = Σ w·value (value x_u; events without value add 0)
CREATE TABLE IF NOT EXISTS unit_metrics
(
    project    LowCardinality(String),
    experiment LowCardinality(String),
    event      LowCardinality(String),
    unit       String,
    events     Int64,
    weight     Float64,
    value      Float64
)
ENGINE = SummingMergeTree((events, weight, value))
ORDER BY (project, experiment, event, unit)
