import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ansi, plain, renderTable, type Column } from '../../../cli/src/text-table.ts';

const columns: Column[] = [
  { header: 'variation', align: 'left' },
  { header: 'units', align: 'right' },
  { header: 'significance', align: 'left' },
];
const rows = [
  ['control', '2', { text: 'control', style: 'dim' as const }],
  ['treatment', '1,024', { text: 'significant increase', style: 'green' as const }],
];

describe('text tables', () => {
  it('aligns words left and numbers right, two spaces apart, without trailing blanks', () => {
    expect(renderTable(columns, rows, plain)).toEqual([
      '  variation  units  significance',
      '  control        2  control',
      '  treatment  1,024  significant increase',
    ]);
  });

  it('colours without moving a column: the same table once the escape codes are removed', () => {
    const coloured = renderTable(columns, rows, ansi);
    expect(coloured.join('\n'), 'escape codes present').toContain('\u001b[32msignificant increase');
    expect(coloured.map((line) => stripVTControlCharacters(line))).toEqual(renderTable(columns, rows, plain));
  });
});
