/**
 * Client keys may travel in a URL's query string (`?api_key=lsc_...`: `navigator.sendBeacon` cannot
 * set headers). A URL is redacted before it reaches a log line or an echoed error message.
 */

/** Query parameters whose values are credentials. */
const SECRET_PARAMS = /([?&](?:api_key|apiKey|key)=)[^&#]*/gi;

/** `url` with the value of every credential parameter replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  if (!url.includes('?')) return url;
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}
