-- Live assignment per (experiment, unit, variation, multiple_exposure): sum(sign) is 1 for the current row, 0 for
-- retracted ones. Summing keeps it small under merges; queries still filter sum(sign) > 0.
CREATE TABLE IF NOT EXISTS unit_assignments
(
    project           LowCardinality(String),
    experiment        LowCardinality(String),
    unit              String,
    variation         LowCardinality(String),
    multiple_exposure Bool,
    first_exposure_at DateTime64(3, 'UTC'),
    sign              Int64
)
ENGINE = SummingMergeTree(sign)
ORDER BY (project, experiment, unit, variation, multiple_exposure, first_exposure_at)
