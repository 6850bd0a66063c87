/**
 * Sign-in with a project's read key. The key is checked by listing the project's experiments with it
 * before it is kept (sessionStorage, this tab only); the form never submits anywhere by itself, so the
 * key cannot end up in a URL, and the field is a password field, so it is not shown or remembered.
 */
import { useState } from 'preact/hooks';
import { ApiError, createApi } from '../api.ts';
import type { ExperimentsAnswer } from '../api-types.ts';

/** What a failed sign-in tells the user, by the API's answer. */
export function signInError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) {
      return 'This key was not accepted: the stats service does not know it. Check that you pasted the whole read key (it starts with lsr_).';
    }
    if (err.status === 403) return `This key cannot read results: ${err.message}.`;
    if (err.code === 'network') {
      return 'The stats service did not answer. Check that it is running, then try again.';
    }
    return `The stats service answered ${err.status} (${err.code}): ${err.message}`;
  }
  return 'Signing in failed unexpectedly; try again.';
}

export function SignIn(props: {
  notice: string | null;
  onSignedIn: (key: string, experiments: ExperimentsAnswer) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('read-key') as HTMLInputElement;
    const key = input.value.trim();
    if (key === '') {
      setError('Enter a read key.');
      input.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const experiments = await createApi(key).experiments();
      input.value = '';
      props.onSignedIn(key, experiments);
    } catch (err) {
      setError(signInError(err));
      input.select();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>liftstream results</h1>
      <p>Experiment results, live from the stats service. Sign in with a read key of your project.</p>
      {props.notice !== null && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      <form method="post" action="#" onSubmit={submit} novalidate>
        <label for="read-key">Read key</label>
        <input
          id="read-key"
          name="read-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          autocapitalize="off"
          aria-describedby={error === null ? 'read-key-help' : 'read-key-help read-key-error'}
          aria-invalid={error !== null}
          placeholder="lsr_…"
        />
        <p id="read-key-help" class="help">
          Kept in this tab only (session storage) and sent only to this server, in the Authorization header.
        </p>
        {error !== null && (
          <p id="read-key-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
