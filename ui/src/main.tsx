/** Entry point of the results page bundle (scripts/build-ui.mjs). */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.tsx';

// Read by the browser test with 'liftstream:results-rendered' (experiment-page.tsx): script start to figures.
performance.mark('liftstream:app-start');
const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
