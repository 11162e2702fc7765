import compose from 'koa-compose';
import type { Context, Middleware } from 'koa';
import { serveFormPostsAsGet } from './form-post-requests.js';
import { answerRevocationWithJson } from './revocation-response.js';

export interface InteropPaths {
  authorization: string;
  endSession: string;
  revocation: string;
}

/**
 * What relying parties nobody here wrote need from the provider's endpoints and it does not
 * do on its own (issue 15): mounted right in front of the provider, after our guards, which
 * already read a POSTed authorization request's form.
 */
export function providerEndpointInterop(paths: InteropPaths): Middleware {
  return compose<Context>([
    serveFormPostsAsGet([paths.authorization, paths.endSession]),
    answerRevocationWithJson(paths.revocation),
  ]);
}
