CREATE MATERIALIZED VIEW IF NOT EXISTS unit_metrics_mv TO unit_metrics AS
SELECT
    project,
    experiment,
    event,
    unit,
    -- Qualified column names: an alias would otherwise shadow the column in the next expression.
    toInt64(attributed.sign)                                                  AS events,
    attributed.sign * attributed.weight                                       AS weight,
    attributed.sign * attributed.weight * coalesce(attributed.value, 0)       AS value
FROM attributed
