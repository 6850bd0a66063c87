-- Assignment changelog from topic <prefix>exposures. Rows are never updated: a correction is a -1 row identical
-- to an earlier +1 row plus a new +1 row, so sum(sign) per row identity is 0 or 1 and is the truth, merged or not.
-- src_partition/src_offset identify the Kafka record each row came from: the sink resumes after the largest
-- offset stored per partition (one INSERT is one atomic part: the table is not partitioned and sink inserts
-- stay far below max_insert_block_size), which is what makes it exactly-once. See services/sink/README.md.
--
-- Projections live inside each part, so they are written atomically with the rows (a materialized view is a
-- second table written after the first: a crash between the two, or a deduplicated retry, would desynchronise
-- them). Queries that match a projection's GROUP BY read it instead of the rows:
--   per_variation: live units per (experiment, variation, multiple_exposure) = sum(sign), because each row
--                  identity sums to 0 or 1. O(variations) instead of O(units) for every results request.
--   offsets:       the sink's resume point per Kafka partition without scanning the table.
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
    src_offset        UInt64,
    PROJECTION per_variation
    (
        SELECT project, experiment, variation, multiple_exposure, sum(sign)
        GROUP BY project, experiment, variation, multiple_exposure
    ),
    PROJECTION offsets
    (
        SELECT src_partition, max(src_offset)
        GROUP BY src_partition
    )
)
ENGINE = MergeTree
ORDER BY (project, experiment, unit)
SETTINGS non_replicated_deduplication_window = 1000
