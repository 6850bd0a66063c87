-- The `offsets` projection (max src_offset per src_partition) made every insert write one more aggregate
-- inside its part, for a lookup the sink does only after an assignment. Building it was 18–30% of
-- an insert round's time in embedded ClickHouse (bench/RESULTS.md, issue 19, "what an insert costs"), and
-- the insert's fixed cost sets how fresh results can be; without it the lookup scans src_partition and
-- src_offset (p50 190 ms over 20M rows, bench/sink-insert-cost.ts). Exactly-once is unchanged: the answer is the same, from the rows.
-- IF EXISTS: idempotent, like every migration (two processes may start together).
ALTER TABLE variation_metrics DROP PROJECTION IF EXISTS offsets
