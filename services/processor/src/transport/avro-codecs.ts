import type { TopicNames } from '../../../../shared/kafka/topics.ts';
import { readAvsc } from '../../../../shared/registry/avro-schemas.ts';
import type { AvroSchemaRegistry } from '../../../../shared/registry/schema-registry.ts';
import type {
  AttributedEventRecord,
  CovariateEventRecord,
  UnitExposureRecord,
} from '../domain/output-rows.ts';

// The Confluent frame reader is shared with the sink and `liftstream tail`: shared/registry/.
export { ConfluentAvroReader } from '../../../../shared/registry/confluent-avro-reader.ts';
export type { AvroRead } from '../../../../shared/registry/confluent-avro-reader.ts';

/** Encoders of the public output topics, with their schemas registered. */
export interface OutputEncoders {
  exposure(record: UnitExposureRecord): Buffer;
  attributed(record: AttributedEventRecord): Buffer;
  covariate(record: CovariateEventRecord): Buffer;
}

/**
 * Registers `unit-exposure`, `attributed-event` and `covariate-event` under the output topics' subjects
 * (TopicNameStrategy, `<topic>-value`) and returns their synchronous encoders. Idempotent.
 */
export async function registerOutputSchemas(
  registry: AvroSchemaRegistry,
  topics: Pick<TopicNames, 'exposures' | 'attributed' | 'covariates'>,
): Promise<OutputEncoders> {
  const exposure = await registry.register(`${topics.exposures}-value`, readAvsc('unit-exposure'));
  const attributed = await registry.register(`${topics.attributed}-value`, readAvsc('attributed-event'));
  const covariate = await registry.register(`${topics.covariates}-value`, readAvsc('covariate-event'));
  return {
    exposure: (r) => exposure.encode(r),
    attributed: (r) => attributed.encode(r),
    covariate: (r) => covariate.encode(r),
  };
}
