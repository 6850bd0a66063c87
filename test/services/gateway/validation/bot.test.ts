import { describe, expect, it } from 'vitest';
import { isBotUserAgent, rawUserAgent } from '../../../../services/gateway/src/validation/bot.ts';
import { CHROME_UA, GOOGLEBOT_UA } from '../../../helpers/gateway-validation.ts';

describe('isBotUserAgent', () => {
  it.each([
    ['Googlebot', GOOGLEBOT_UA, true],
    ['Bingbot', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', true],
    ['curl', 'curl/8.5.0', true],
    ['desktop Chrome', CHROME_UA, false],
    [
      'iPhone Safari',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      false,
    ],
  ])('%s → %s', (_name, userAgent, expected) => {
    expect(isBotUserAgent(userAgent)).toBe(expected);
  });

  it('gives the same answer from the memo on a repeat', () => {
    expect([isBotUserAgent(GOOGLEBOT_UA), isBotUserAgent(GOOGLEBOT_UA)]).toEqual([true, true]);
  });

  it('stays correct after more distinct user agents than the memo holds', () => {
    for (let i = 0; i < 5000; i++) isBotUserAgent(`${CHROME_UA} build/${i}`);
    expect([isBotUserAgent(GOOGLEBOT_UA), isBotUserAgent(CHROME_UA)]).toEqual([true, false]);
  });
});

describe('rawUserAgent', () => {
  it.each([
    [{ context: { user_agent: 'ua' } }, 'ua'],
    [{ context: { user_agent: 1 } }, undefined],
    [{ context: ['ua'] }, undefined],
    [{ context: null }, undefined],
    [{}, undefined],
  ])('%j → %s', (event, expected) => {
    expect(rawUserAgent(event)).toBe(expected);
  });
});
