/**
 * Aligned plain-text tables for the terminal, with optional colour. Pure: the caller decides whether
 * colour is wanted (a terminal, NO_COLOR unset) and passes `paint`; widths are measured before
 * colouring, so escape codes never shift a column.
 */
import { styleText } from 'node:util';

export type Style = 'bold' | 'dim' | 'green' | 'red' | 'yellow';

/** Wraps text in a style's escape codes, or returns it as it is. */
export type Paint = (text: string, style: Style) => string;

export const plain: Paint = (text) => text;

// validateStream: false, because whether to colour is decided once, by the caller (see colorWanted).
export const ansi: Paint = (text, style) => styleText(style, text, { validateStream: false });

export function painter(color: boolean | undefined): Paint {
  return color ? ansi : plain;
}

export interface Column {
  header: string;
  /** Numbers right, words left. */
  align: 'left' | 'right';
}

/** A cell: its text, and a style for it when colour is on. */
export type Cell = string | { text: string; style?: Style | undefined };

/**
 * The table as lines: a bold header, then one line per row, columns separated by two spaces and
 * indented by `indent`. Trailing spaces are trimmed.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly Cell[])[],
  paint: Paint,
  indent = '  ',
): string[] {
  const texts = rows.map((row) => columns.map((_, i) => cellText(row[i])));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...texts.map((t) => (t[i] ?? '').length)));
  const line = (cells: readonly string[], styles: readonly (Style | undefined)[]) =>
    (
      indent +
      cells
        .map((text, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - text.length);
          const style = styles[i];
          // The blanks stay outside the escape codes.
          const shown = style === undefined || text === '' ? text : paint(text, style);
          return columns[i]?.align === 'right' ? pad + shown : shown + pad;
        })
        .join('  ')
    ).trimEnd();
  return [
    line(
      columns.map((c) => c.header),
      columns.map(() => 'bold'),
    ),
    ...rows.map((row, r) =>
      line(
        texts[r] ?? [],
        columns.map((_, i) => cellStyle(row[i])),
      ),
    ),
  ];
}

function cellText(cell: Cell | undefined): string {
  return cell === undefined ? '' : typeof cell === 'string' ? cell : cell.text;
}

function cellStyle(cell: Cell | undefined): Style | undefined {
  return cell === undefined || typeof cell === 'string' ? undefined : cell.style;
}
