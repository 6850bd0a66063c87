import { describe, expect, it } from 'vitest';
import { containsEmail } from '../../../../services/gateway/src/validation/email.ts';

describe('containsEmail', () => {
  it.each([
    ['a plain address', 'jane@example.com'],
    ['sub-domains and tags', 'jane.doe+ab_test@mail.eu.example.co.uk'],
    ['upper case', 'JANE@EXAMPLE.COM'],
    ['an address inside text', 'write to jane@example.com please'],
    ['an address followed by a dash', 'msg-bob@example.org-1'],
    ['a mailto: URI', 'mailto:jane@example.com'],
    ['an address in a query string', 'https://shop.example/?email=jane@example.com&x=1'],
    ['unicode local and domain parts', 'josé@exämple.de'],
    ['an IDN top-level label', 'ivan@пример.xn--p1ai'],
    ['an apostrophe in the local part', "o'brien@example.ie"],
    ['a second @ that is the e-mail', 'a@b jane@example.com'],
    ['user info in a URL (accepted false positive)', 'https://user@example.com/path'],
  ])('finds %s', (_name, text) => {
    expect(containsEmail(text), text).toBe(true);
  });

  it.each([
    ['no @ at all', 'user-42'],
    ['a handle without a dot-domain', 'a@b'],
    ['a mention', '@alice'],
    ['a host without a dot', 'user@localhost'],
    ['a package version', 'liftstream@1.2.3'],
    ['a scoped package', '@scope/pkg'],
    ['a space before the @', 'jane @example.com'],
    ['a one-letter top-level label', 'jane@example.c'],
    ['a top-level label running into digits', 'jane@example.com2'],
    ['an empty string', ''],
    ['only @', '@@@'],
  ])('does not flag %s', (_name, text) => {
    expect(containsEmail(text), text).toBe(false);
  });

  it('answers in linear time on an adversarial string of many @ and labels', () => {
    const text = 'a@'.repeat(50_000) + 'b.'.repeat(50_000);
    const started = performance.now();
    expect(containsEmail(text)).toBe(false);
    expect(performance.now() - started, 'milliseconds for 200 KB').toBeLessThan(500);
  });
});
