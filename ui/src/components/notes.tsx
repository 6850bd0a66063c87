/** Small status lines: when the figures were received, and why the last refresh failed. */
import { ApiError } from '../api.ts';
import { formatTime } from '../format.ts';

export function LiveNote(props: { receivedAt: number | undefined; label?: string }) {
  if (props.receivedAt === undefined) return null;
  return (
    <p class="live-note">
      <span class="live-dot" aria-hidden="true" />
      {props.label ?? 'Live'} · updated <time data-updated>{formatTime(props.receivedAt)}</time>
    </p>
  );
}

/** What went wrong, in the API's words; `stale` says the figures on screen are the previous ones. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'network') return 'The stats service did not answer.';
    return `${error.message} (${error.status} ${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNote(props: { error: unknown; stale: boolean }) {
  if (props.error === undefined) return null;
  return (
    <p class="error-note" role="alert">
      {props.stale ? 'Could not refresh: ' : ''}
      {describeError(props.error)}
      {props.stale ? ' Showing the last figures received; retrying.' : ' Retrying.'}
    </p>
  );
}
