import { describe, expect, it } from 'vitest';
import { readIngestRecord } from '../../../../services/processor/src/transport/ingest-record.ts';
import { ingestValue } from '../../../helpers/processor/kafka-harness.ts';
import { ingestAlias, ingestExposure, ingestTrack } from '../../../helpers/processor/builders.ts';

describe('readIngestRecord', () => {
  it.each([
    ['an exposure', ingestExposure({ id: 'x', user: 'u', decision: 'd', messageId: 'm' })],
    [
      'an exposure with properties and context',
      ingestExposure({
        id: 'x',
        user: 'u',
        properties: { country: 'DE', seats: 3, beta: false },
        context: { locale: 'de-DE' },
      }),
    ],
    [
      'a track with value, sample and decision',
      ingestTrack({ id: 't', anon: 'a', value: 2.5, sample: 0.25, decision: 'd' }),
    ],
    ['a track without value', ingestTrack({ id: 't2', user: 'u' })],
    ['an alias', ingestAlias({ id: 'al', anon: 'a', user: 'u' })],
  ])('reads %s in avsc form back as the domain event', (_name, event) => {
    expect(readIngestRecord(ingestValue(event)), 'same event').toEqual({ ok: true, event });
  });

  it('recognises the body branch by its short name (namespace may change)', () => {
    const value = {
      ...ingestValue(ingestAlias({ id: 'al', anon: 'a', user: 'u' })),
      body: { 'other.ns.Alias': {} },
    };
    const read = readIngestRecord(value);
    expect(read.ok && read.event.body.kind, 'alias').toBe('alias');
  });

  it('reads an exposure written before exposures had properties as one with none', () => {
    const value = ingestValue(ingestExposure({ id: 'x', user: 'u' }));
    delete (value['body'] as Record<string, Record<string, unknown>>)['io.liftstream.ingest.Exposure']![
      'properties'
    ];
    const read = readIngestRecord(value);
    expect(read.ok && read.event.body.kind === 'exposure' && read.event.body.properties).toEqual({});
  });

  it('defaults a track without sample to 1 (the schema default)', () => {
    const value = ingestValue(ingestTrack({ id: 't', user: 'u' }));
    delete (value['body'] as Record<string, Record<string, unknown>>)['io.liftstream.ingest.Track']![
      'sample'
    ];
    const read = readIngestRecord(value);
    expect(read.ok && read.event.body.kind === 'track' && read.event.body.sample).toBe(1);
  });

  it.each([
    ['not a record', 42, 'not a record'],
    [
      'a missing event_id',
      { ...ingestValue(ingestAlias({ id: 'a', anon: 'a', user: 'u' })), event_id: 7 },
      'event_id',
    ],
    [
      'a string timestamp',
      { ...ingestValue(ingestAlias({ id: 'a', anon: 'a', user: 'u' })), timestamp: 'now' },
      'timestamp',
    ],
    [
      'an unknown body branch',
      { ...ingestValue(ingestAlias({ id: 'a', anon: 'a', user: 'u' })), body: { 'x.Click': {} } },
      'unknown body branch x.Click',
    ],
    [
      'two body branches',
      { ...ingestValue(ingestAlias({ id: 'a', anon: 'a', user: 'u' })), body: { A: {}, B: {} } },
      '2 branches',
    ],
    [
      'an exposure without variation',
      {
        ...ingestValue(ingestAlias({ id: 'a', anon: 'a', user: 'u' })),
        body: { 'io.liftstream.ingest.Exposure': { experiment: 'e' } },
      },
      'exposure needs',
    ],
    [
      'an exposure property that is an object',
      {
        ...ingestValue(ingestAlias({ id: 'a', anon: 'a', user: 'u' })),
        body: { 'io.liftstream.ingest.Exposure': { experiment: 'e', variation: 'A', properties: { o: {} } } },
      },
      'exposure properties must be a map',
    ],
    [
      'a context value that is not a string',
      { ...ingestValue(ingestAlias({ id: 'a', anon: 'a', user: 'u' })), context: { n: 1 } },
      'context must be a map of strings',
    ],
  ])('rejects %s with a reason', (_name, value, reason) => {
    const read = readIngestRecord(value);
    expect(read.ok, 'not readable').toBe(false);
    expect(read.ok ? '' : read.reason).toContain(reason);
  });
});
