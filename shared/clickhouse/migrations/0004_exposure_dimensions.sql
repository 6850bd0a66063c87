-- The unit's declared dimensions, valued from its first exposure (schemas/unit-exposure.avsc, field `dimensions`):
-- property values as strings, a dimension the exposure had no value for absent from the map. Part of the row's
-- identity like every other field: a correction retracts the row with its old map and asserts the new one, so
-- sum(sign) per (project, experiment, unit, dimensions[d]) is 0 or 1 and is the unit's value of d.
-- Rows stored before this migration (and records written before the field) read as an empty map.
-- IF NOT EXISTS: idempotent, like every migration (two processes may start together).
ALTER TABLE exposures ADD COLUMN IF NOT EXISTS dimensions Map(LowCardinality(String), String) AFTER multiple_exposure
