-- Assignment changelog from topic <prefix>exposures. Rows are never updated: a correction is a -1 row
-- identical to an earlier +1 row plus a new +1 row, so sum(sign) per row identity is the truth, merged or not.
-- src_partition/src_offset identify the Kafka record each row came from: the sink resumes after the largest
-- offset already stored (one INSERT is one atomic part), which is what makes it exactly-once.
CREATE TABLE IF NOT EXISTS exposures
(
    project           LowCardinality(String),
    experiment        LowCardinality(String),
    unit              String,
    variation         LowCardinality(String),
    first_exposure_at DateTime64(3, 'UTC'),
    multiple_exposure Bool,
    sign              Int8,
    src_partition     UInt32,
    src_offset        UInt64
)
ENGINE = MergeTree
ORDER BY (project, experiment, unit)
SETTINGS non_replicated_deduplication_window = 1000
