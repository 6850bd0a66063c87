import { describe, expect, it } from 'vitest';
import { BatchOutput } from '../../../shared/streams/batch-output.ts';

describe('BatchOutput.append (the sweep rows first, then the chunk)', () => {
  it('keeps each topic in order, earlier output first, and sums counters and times', () => {
    const swept = new BatchOutput();
    expect(swept.isEmpty()).toBe(true);
    swept.push('covariates', 'p/u', 'c1');
    swept.count('covariate_asserted');
    const chunk = new BatchOutput();
    chunk.push('exposures', 'p/v', 'x1');
    chunk.push('covariates', 'p/v', 'c2');
    chunk.push('units', 'p/w', 'm1', 3);
    chunk.count('covariate_asserted', 2);
    chunk.receivedAt.push(42);
    swept.append(chunk);
    expect(swept.topicMessages()).toEqual([
      {
        topic: 'covariates',
        messages: [
          { key: 'p/u', value: 'c1' },
          { key: 'p/v', value: 'c2' },
        ],
      },
      { topic: 'exposures', messages: [{ key: 'p/v', value: 'x1' }] },
      { topic: 'units', messages: [{ key: 'p/w', value: 'm1', partition: 3 }] },
    ]);
    expect(swept.counters.get('covariate_asserted')).toBe(3);
    expect(swept.receivedAt).toEqual([42]);
    expect(swept.isEmpty()).toBe(false);
  });
});
