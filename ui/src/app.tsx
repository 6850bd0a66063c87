/**
 * The page: sign-in until a read key is held, then the experiments list or one experiment, chosen by the
 * URL fragment. The listing is polled here (both pages read it); a key the API stops accepting signs the
 * user out with a message.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import type { ApiError } from './api.ts';
import type { ExperimentsAnswer } from './api-types.ts';
import { ExperimentPage } from './components/experiment-page.tsx';
import { ExperimentsList, LIST_REFRESH_MS } from './components/experiments-list.tsx';
import { SignIn } from './components/sign-in.tsx';
import { formatRoute, parseRoute } from './route.ts';
import type { ExperimentOptions, Route } from './route.ts';
import { forgetKey, storedKey, storeKey } from './session.ts';
import { usePoll } from './use-poll.ts';

/** How often relative times and the running status are brought up to date, ms. */
const CLOCK_MS = 15_000;

export function App() {
  const [key, setKey] = useState<string | null>(storedKey);
  const [session, setSession] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [nowMs, setNow] = useState(Date.now);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    const clock = setInterval(() => setNow(Date.now()), CLOCK_MS);
    return () => {
      window.removeEventListener('hashchange', onHash);
      clearInterval(clock);
    };
  }, []);

  const signOut = useCallback((message: string | null) => {
    forgetKey();
    setKey(null);
    setNotice(message);
  }, []);
  const api = useMemo(
    () =>
      key === null
        ? null
        : createApi(key, (error: ApiError) =>
            signOut(
              `Signed out: the stats service no longer accepts this key (${error.status}: ${error.message}).`,
            ),
          ),
    [key, signOut],
  );
  const experiments = usePoll<ExperimentsAnswer>(
    api === null ? null : `experiments-${session}`,
    (signal) => (api as NonNullable<typeof api>).experiments(signal),
    LIST_REFRESH_MS,
  );

  useEffect(() => {
    if (route.page === 'list') document.title = 'Experiments · liftstream results';
  }, [route.page]);

  if (api === null) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(signedIn) => {
          storeKey(signedIn);
          setKey(signedIn);
          setSession((s) => s + 1);
          setNotice(null);
        }}
      />
    );
  }

  /** Selections replace the history entry: Back leaves the page rather than undoing a toggle. */
  const setOptions = (experiment: string, options: ExperimentOptions) => {
    const next: Route = { page: 'experiment', experiment, options };
    history.replaceState(history.state, '', formatRoute(next));
    setRoute(next);
  };
  const listed = experiments.data?.experiments;

  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          liftstream <span>results</span>
        </a>
        {experiments.data !== undefined && (
          <span class="project" title="The project of this read key">
            <span class="project-label">project </span>
            <strong data-project>{experiments.data.project}</strong>
          </span>
        )}
        <button
          type="button"
          class="link"
          onClick={() => signOut('Signed out. The key was removed from this tab.')}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'list' ? (
          <ExperimentsList
            api={api}
            experiments={experiments.data}
            experimentsError={experiments.error}
            receivedAt={experiments.receivedAt}
            nowMs={nowMs}
          />
        ) : (
          <ExperimentPage
            key={route.experiment}
            api={api}
            experiment={route.experiment}
            options={route.options}
            summary={listed?.find((e) => e.experiment === route.experiment)}
            unlisted={listed !== undefined && !listed.some((e) => e.experiment === route.experiment)}
            nowMs={nowMs}
            onOptions={(options) => setOptions(route.experiment, options)}
          />
        )}
      </main>
    </>
  );
}
