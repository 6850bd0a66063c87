/**
 * Variation colours, control first: distinguishable for the common colour-vision deficiencies (after
 * Okabe–Ito, darkened for contrast on white) and never the only carrier of meaning (labels say it too).
 */
export const VARIATION_COLOURS = [
  '#4b5563',
  '#0072b2',
  '#d55e00',
  '#7a4fa3',
  '#009e73',
  '#b8860b',
  '#cc79a7',
];

/** Colour of the i-th variation (the control is 0). */
export function colourOf(i: number): string {
  return VARIATION_COLOURS[i % VARIATION_COLOURS.length] as string;
}

/** The same colour, translucent (bands). */
export function translucent(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
