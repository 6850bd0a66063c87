/**
 * Detection of e-mail addresses, which are personal data and must not enter the pipeline.
 *
 * Rule: a string "looks like an e-mail address" when it CONTAINS `local@domain.tld` anywhere, where
 * - local: at least one letter, digit, mark or one of . _ % + ' - immediately before the '@';
 * - domain: one or more dot-separated labels of letters, digits, marks or '-', then a top-level
 *   label of 2+ letters (or an IDN 'xn--' label) not followed by a letter or digit ('bob@example.org-1'
 *   counts: the address is plainly there).
 * Letters are Unicode (\p{L}), so 'josé@exämple.de' counts.
 *
 * Deliberately NOT e-mail: 'a@b' and 'user@localhost' (handles / hosts without a dot-domain),
 * '@alice' (mentions), 'pkg@1.2.3' (versions: numeric top-level label).
 * Known false positives, accepted on purpose: 'git@github.com:org/repo' and URLs with user info
 * ('https://user@example.com/') -- both are better kept out of analytics anyway.
 *
 * Cost: linear. Strings without '@' are answered by one indexOf; for each '@' the domain is matched
 * with a sticky regex from that position only, so no quadratic scan over start positions.
 */

const LOCAL_CHAR = /^[\p{L}\p{N}\p{M}._%+'-]$/u;
// Labels cannot contain '.', so backtracking is bounded by the length of the domain run.
const DOMAIN_AFTER_AT = /(?:[\p{L}\p{N}\p{M}-]+\.)+(?:\p{L}{2,}|xn--[a-z0-9-]+)(?![\p{L}\p{N}\p{M}])/uy;

/** True when `text` contains something shaped like an e-mail address (see the module comment). */
export function containsEmail(text: string): boolean {
  let at = text.indexOf('@');
  while (at !== -1) {
    if (at > 0 && LOCAL_CHAR.test(text.charAt(at - 1))) {
      DOMAIN_AFTER_AT.lastIndex = at + 1;
      if (DOMAIN_AFTER_AT.test(text)) return true;
    }
    at = text.indexOf('@', at + 1);
  }
  return false;
}
