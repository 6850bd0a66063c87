/**
 * GET /v1/srm: the sample ratio mismatch check of every experiment of the key's project at once, for the
 * results page's experiments list (one scan of the project's exposure rows, the listing's query, instead of
 * one results request per experiment). Each figure is the `srm` block a results request over all time
 * would show: the same test (math/srm.ts) on the same analysed units, against the project's
 * `expectedSplit` or an equal split. Read keys only.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ProjectCatalog } from '../../../../shared/projects/project-catalog.ts';
import { srmResult } from '../math/srm.ts';
import { SRM_ALARM_P_VALUE } from '../metrics/srm-alarms.ts';
import { listExperiments } from '../storage/experiments-query.ts';
import type { ExperimentSummary } from '../storage/experiments-query.ts';
import { authorizeRead } from './auth.ts';
import { expectedWeightsFor } from './results-response.ts';
import { errors, security, storage } from './results-routes.ts';

export interface SrmRouteDeps {
  catalog: ProjectCatalog;
  clickhouse: ClickHouseClient;
}

const Counts = Type.Object({}, { additionalProperties: Type.Number(), description: 'Keyed by variation' });
const SrmBlock = Type.Object({
  p_value: Type.Unsafe<number | null>({ type: 'number', nullable: true }),
  observed: Counts,
  expected: Counts,
});

export const SrmListResponseSchema = Type.Object(
  {
    project: Type.String(),
    alarm_below: Type.Number({ description: 'The p-value below which the split counts as mismatched' }),
    experiments: Type.Array(
      Type.Object({
        experiment: Type.String(),
        srm: Type.Unsafe<Static<typeof SrmBlock> | null>({
          ...SrmBlock,
          nullable: true,
          description: 'As in the results answer; null when the configured split cannot be applied',
        }),
        problem: Type.Unsafe<string | null>({
          type: 'string',
          nullable: true,
          description: 'Why srm is null (the results would answer invalid_configuration)',
        }),
      }),
    ),
  },
  { title: 'SRM of every experiment' },
);

export function srmRoutes(deps: SrmRouteDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/srm',
      {
        schema: {
          summary: "Sample ratio mismatch of each of the key's project's experiments",
          description:
            'Per experiment the `srm` block its results over all time show (chi-square of analysed units against ' +
            'the expectedSplit, else an equal split), from one listing of the exposures. Read keys only.',
          security,
          response: { 200: SrmListResponseSchema, ...errors },
        },
      },
      async (request) => {
        const { project } = authorizeRead(request.headers.authorization, deps.catalog);
        const experiments = await storage(() => listExperiments(deps.clickhouse, project.id));
        return {
          project: project.id,
          alarm_below: SRM_ALARM_P_VALUE,
          experiments: experiments.map((summary) => srmOf(summary, project.expectedSplit)),
        };
      },
    );
  };
}

/** The results endpoint's SRM block, or why it has none (results would answer invalid_configuration). */
export function srmOf(
  summary: ExperimentSummary,
  expectedSplit: Record<string, Record<string, number>>,
): { experiment: string; srm: Static<typeof SrmBlock> | null; problem: string | null } {
  const weights = expectedWeightsFor(expectedSplit, summary.experiment);
  const unweighted = summary.variations.find((v) => weights !== undefined && !(v.variation in weights));
  if (unweighted !== undefined) {
    return {
      experiment: summary.experiment,
      srm: null,
      problem: `expectedSplit has no weight for exposed variation ${JSON.stringify(unweighted.variation)}`,
    };
  }
  const srm = srmResult(summary.variations, weights);
  return {
    experiment: summary.experiment,
    srm: { p_value: srm.p_value, observed: { ...srm.observed }, expected: { ...srm.expected } },
    problem: null,
  };
}
