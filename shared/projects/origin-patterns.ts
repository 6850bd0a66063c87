/**
 * A project's `allowedOrigins`: the web origins whose pages may send events with its client keys.
 * Each entry is an exact origin as browsers send it in the `Origin` header (scheme, host and port;
 * no path; lowercase; default port left out), or a subdomain wildcard `https://*.shop.example`, which
 * matches `https://a.shop.example` and `https://a.b.shop.example` but not `https://shop.example`
 * itself (list it too) nor another scheme or port. Matching is exact string comparison, never a
 * regular expression built from configuration, so a hostile `Origin` costs one Set lookup plus a
 * suffix test per wildcard.
 */

/** The rule in words, for error messages. */
export const ORIGIN_RULE =
  'an origin "scheme://host[:port]" (http or https, lowercase, no path or trailing slash, default port left out), ' +
  'e.g. "https://shop.example", or a subdomain wildcard "https://*.shop.example"';

const WILDCARD = /^(https?):\/\/\*\.(.+)$/;
/** One or more DNS labels, as a browser serialises a host (IDNs arrive as punycode). */
const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/**
 * Why `entry` is not a valid allowedOrigins entry, or undefined when it is. The message suggests the
 * canonical form when the entry only differs from it in spelling ("https://Shop.example/").
 */
export function originEntryProblem(entry: string): string | undefined {
  if (entry === '*' || entry === 'null') {
    return `"${entry}" would let any page send events with the project's client keys; list the origins instead`;
  }
  const wildcard = WILDCARD.exec(entry);
  const origin = wildcard ? `${wildcard[1]}://${wildcard[2]}` : entry;
  const canonical = canonicalOrigin(origin);
  // URL() accepts "*" inside a host, but no browser sends one: only "scheme://*." is a wildcard.
  if (canonical === undefined || origin.includes('*')) return `"${truncate(entry)}" is not ${ORIGIN_RULE}`;
  if (wildcard && !canonical.slice(canonical.indexOf('://') + 3).includes('.')) {
    return `"${entry}" covers a whole top-level domain; the part after "*." needs at least two labels`;
  }
  if (canonical !== origin) {
    const suggestion = wildcard ? canonical.replace('://', '://*.') : canonical;
    return `"${truncate(entry)}" is not ${ORIGIN_RULE}; did you mean "${suggestion}"?`;
  }
  return undefined;
}

/** The origin `text` serialises to when it parses as an http(s) URL, else undefined. */
function canonicalOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '' || url.hostname === '') return undefined;
  return url.origin;
}

/** Tests request origins against a list of valid entries (see originEntryProblem). */
export interface OriginMatcher {
  matches(origin: string): boolean;
  /** Whether any entry is configured. */
  readonly empty: boolean;
}

/** A matcher of `entries`, which must be valid (the catalog schema checks them first). */
export function originMatcher(entries: readonly string[]): OriginMatcher {
  const exact = new Set<string>();
  // "https://" and ".shop.example[:port]" of each wildcard
  const wildcards: { scheme: string; suffix: string }[] = [];
  for (const entry of entries) {
    const wildcard = WILDCARD.exec(entry);
    if (wildcard) wildcards.push({ scheme: `${wildcard[1]}://`, suffix: `.${wildcard[2]}` });
    else exact.add(entry);
  }
  return {
    empty: entries.length === 0,
    matches(origin) {
      if (exact.has(origin)) return true;
      for (const { scheme, suffix } of wildcards) {
        if (!origin.startsWith(scheme) || !origin.endsWith(suffix)) continue;
        const sub = origin.slice(scheme.length, origin.length - suffix.length);
        if (SUBDOMAIN.test(sub)) return true;
      }
      return false;
    },
  };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
