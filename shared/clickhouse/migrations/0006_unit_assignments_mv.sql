CREATE MATERIALIZED VIEW IF NOT EXISTS unit_assignments_mv TO unit_assignments AS
SELECT project, experiment, unit, variation, multiple_exposure, first_exposure_at, toInt64(sign) AS sign
FROM exposures
