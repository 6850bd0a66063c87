/**
 * One number on the page: the formatted text inside a `<data>` element whose `value` is the API's number
 * as received (no `value` for null), so what is shown can always be traced back (and is, by the browser
 * test) to the answer.
 */
import type { ComponentChildren } from 'preact';

export function Figure(props: {
  value: number | null;
  text: string;
  /** Names the figure for the test and for styling (e.g. "lift", "p"). */
  name: string;
  class?: string;
  title?: string;
}) {
  return (
    <data
      value={props.value === null ? undefined : String(props.value)}
      data-figure={props.name}
      class={props.class}
      title={props.title}
    >
      {props.text}
    </data>
  );
}

/** An interval as one `<data>` whose value is the API's `[lower, upper]` as JSON. */
export function IntervalFigure(props: { ci: readonly [number, number] | null; text: string; name: string }) {
  return (
    <data value={props.ci === null ? undefined : JSON.stringify(props.ci)} data-figure={props.name}>
      {props.text}
    </data>
  );
}

/** A badge: a word with a colour class, never colour alone. */
export function Badge(props: {
  tone: 'good' | 'bad' | 'warn' | 'neutral' | 'live';
  children: ComponentChildren;
  title?: string;
}) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      {props.children}
    </span>
  );
}
