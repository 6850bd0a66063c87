/**
 * The read key of the signed-in user, in sessionStorage: it lives as long as the tab, is not shared with
 * other tabs or sent anywhere by the browser itself, and is gone when the tab closes. The page puts it
 * only in the Authorization header of its own API calls: never in a URL, a cookie or a log.
 */
const KEY = 'liftstream.readKey';

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    // Storage disabled (some private modes): the user signs in again on each load.
    return null;
  }
}

export function storeKey(key: string): void {
  try {
    sessionStorage.setItem(KEY, key);
  } catch {
    // Kept in memory only (see storedKey).
  }
}

export function forgetKey(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
}
