import { buildBreachedPasswordList, foldForList, shippedBreachedList } from '../../src/accounts/breached-passwords.js';

describe('breached-password list', () => {
  it('holds the shipped list of at least 100,000 distinct entries', async () => {
    const list = await shippedBreachedList();
    expect(list.size).toBeGreaterThanOrEqual(100_000);
    expect(await shippedBreachedList()).toBe(list);
  });

  it('finds listed passwords whatever their case or Unicode form, and not others', async () => {
    const list = await shippedBreachedList();
    for (const listed of [
      'password1234',
      'Password1234',
      'PASSWORDPASSWORD',
      'iloveyou1234',
      '123456789012',
      'ｐａｓｓｗｏｒｄ1234',
      ' password1234 ',
    ]) {
      expect([listed, list.has(listed)]).toEqual([listed, true]);
    }
    for (const fresh of ['correct horse battery staple', 'vivid-otter-lamp-quartz-91', '', 'password1234x']) {
      expect([fresh, list.has(fresh)]).toEqual([fresh, false]);
    }
  });

  it('builds from any text: CRLF and blank lines, duplicates counted once, non-ASCII lines folded', () => {
    const list = buildBreachedPasswordList(new TextEncoder().encode('alpha\r\nBeta\n\nalpha\nÉté2024\nﬁsh\n'));
    expect(list.size).toBe(4);
    expect(['alpha', 'ALPHA', 'beta', 'été2024', 'ÉTÉ2024', 'fish'].map((p) => list.has(p))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['alph', 'gamma', 'ete2024'].map((p) => list.has(p))).toEqual([false, false, false]);
  });

  it('compares in one folded form: NFKC, lower case, trimmed', () => {
    expect(foldForList('  ＡＢＣ ')).toBe('abc');
    expect(foldForList('e\u0301')).toBe('é');
  });
});
