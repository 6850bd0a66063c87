import { describe, expect, it } from 'vitest';
import { originEntryProblem, originMatcher } from '../../../shared/projects/origin-patterns.ts';

describe('originEntryProblem', () => {
  it.each([
    'https://shop.example',
    'http://127.0.0.1:5173',
    'http://localhost:3000',
    'https://*.shop.example',
    'https://*.shop.example:8443',
    'https://xn--bcher-kva.example',
  ])('accepts %s', (entry) => {
    expect(originEntryProblem(entry)).toBeUndefined();
  });

  it.each([
    ['a trailing slash', 'https://shop.example/', /did you mean "https:\/\/shop.example"\?/],
    ['upper case', 'https://Shop.Example', /did you mean "https:\/\/shop.example"\?/],
    ['the default port', 'https://shop.example:443', /did you mean "https:\/\/shop.example"\?/],
    ['a path', 'https://shop.example/app', /did you mean "https:\/\/shop.example"\?/],
    ['a wildcard with a slash', 'https://*.shop.example/', /did you mean "https:\/\/\*.shop.example"\?/],
    ['no scheme', 'shop.example', /is not an origin "scheme:\/\/host\[:port\]"/],
    ['another scheme', 'ftp://shop.example', /is not an origin/],
    ['credentials', 'https://user:pw@shop.example', /is not an origin/],
    ['everything', '*', /would let any page send events/],
    ['null', 'null', /would let any page send events/],
    ['a wildcard over a top-level domain', 'https://*.com', /covers a whole top-level domain/],
    ['a wildcard in the middle', 'https://shop.*.example', /is not an origin/],
  ])('refuses %s, saying why', (_, entry, message) => {
    expect(originEntryProblem(entry)).toMatch(message);
  });
});

describe('originMatcher', () => {
  const m = originMatcher(['https://shop.example', 'http://127.0.0.1:5173', 'https://*.shop.example']);

  it.each([
    'https://shop.example',
    'http://127.0.0.1:5173',
    'https://a.shop.example',
    'https://a-b.c.shop.example',
  ])('matches %s', (origin) => expect(m.matches(origin)).toBe(true));

  it.each([
    'https://shop.example:443',
    'http://shop.example',
    'https://evilshop.example',
    'https://shop.example.evil.test',
    'http://a.shop.example',
    'https://a.shop.example:8443',
    'https://.shop.example',
    'https://a..shop.example',
    'https://evil.test/.shop.example',
    'https://evil.test?.shop.example',
    'https://-a.shop.example',
    'null',
    '',
    'http://127.0.0.1:5174',
  ])('does not match %j', (origin) => expect(m.matches(origin)).toBe(false));

  it('answers a hostile 100 KB origin quickly', () => {
    const hostile = `https://${'a.'.repeat(50_000)}shop.example`;
    const started = performance.now();
    m.matches(hostile);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('says when nothing is listed', () => {
    expect(originMatcher([]).empty).toBe(true);
    expect(m.empty).toBe(false);
  });
});
