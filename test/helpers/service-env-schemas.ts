import type { z } from 'zod';
import { gatewayEnvSchema } from '../../services/gateway/src/config.ts';
import { processorEnvSchema } from '../../services/processor/src/config.ts';
import { statsEnvSchema } from '../../services/stats/src/config.ts';

/** Each deployable liftstream service and the env schema its config module validates at start-up. */
export const serviceEnvSchemas: Record<'gateway' | 'processor' | 'stats', z.ZodObject> = {
  gateway: gatewayEnvSchema,
  processor: processorEnvSchema,
  stats: statsEnvSchema,
};
