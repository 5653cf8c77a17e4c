import { describe, expect, it } from 'vitest';
import { signCallback, verifyCallbackSignature as verifyOnServer } from '@async-jobs/shared';
import { verifyCallbackSignature } from '../packages/client/src/index';

const secret = 'cb-secret';
const body = JSON.stringify({ id: 'j1', state: 'completed', result: { ok: 'ü' } });
const now = 1_750_000_000_000;
const t = now / 1000;

/** Both verifiers on one input: the client's (Web Crypto) and the shared one (node:crypto). */
async function both(header: string, text = body, key = secret) {
  return [await verifyCallbackSignature(key, header, text, 300, now), verifyOnServer(key, header, text, 300, now)];
}

describe('verifyCallbackSignature (client, Web Crypto)', () => {
  it('accepts what the server signs, as the shared verifier does', async () => {
    expect(await both(signCallback(secret, body, t))).toEqual([true, true]);
    expect(await both(signCallback(secret, body, t - 299))).toEqual([true, true]);
  });

  it('refuses what the shared verifier refuses', async () => {
    const good = signCallback(secret, body, t);
    const cases: Array<[string, string, string]> = [
      [good, `${body} `, secret], // body changed
      [good, body, 'other-secret'],
      [signCallback(secret, body, t - 301), body, secret], // too old: a replay
      [signCallback(secret, body, t + 301), body, secret],
      [good.slice(0, -1) + (good.endsWith('0') ? '1' : '0'), body, secret], // signature changed
      [`t=${t}`, body, secret], // no signature
      [good.replace(`t=${t}`, 't=soon'), body, secret],
      ['', body, secret],
      [signCallback('', body, t), body, ''], // no secret: anyone can sign with it
      [`${good}zz`, body, secret], // hex with more after it
      [`${good}0`, body, secret],
    ];
    for (const [header, text, key] of cases) expect(await both(header, text, key), header).toEqual([false, false]);
  });
});
