import { withFirstCallbackName, type UpstreamProfile } from '../../src/federation/profile.js';

const profile: UpstreamProfile = {
  subject: '001234.abcd',
  email: 'ada@privaterelay.appleid.com',
  emailVerified: true,
  name: null,
  givenName: null,
  familyName: null,
  picture: null,
  groups: [],
  amr: [],
  acr: null,
};
const user = JSON.stringify({ name: { firstName: 'Ada', lastName: 'Lovelace' }, email: 'other@example.com' });

/** Apple's first callback names the person in the form_post's `user` field (issue 17). */
describe("Apple's user field", () => {
  it('takes the name from a form_post callback, and nothing else', () => {
    expect(withFirstCallbackName({ responseMode: 'form_post' }, profile, user)).toEqual({
      ...profile,
      name: 'Ada Lovelace',
      givenName: 'Ada',
      familyName: 'Lovelace',
    });
  });

  it('ignores it on a query callback, when malformed, and never overrides the claims', () => {
    expect(withFirstCallbackName({ responseMode: 'query' }, profile, user)).toBe(profile);
    for (const bad of ['{', '[]', JSON.stringify({ name: 'Ada' }), 'x'.repeat(5000)]) {
      expect(withFirstCallbackName({ responseMode: 'form_post' }, profile, bad)).toEqual(profile);
    }
    const named = { ...profile, name: 'From Token', givenName: 'From' };
    expect(withFirstCallbackName({ responseMode: 'form_post' }, named, user)).toMatchObject({
      name: 'From Token',
      givenName: 'From',
      familyName: 'Lovelace',
    });
  });
});
