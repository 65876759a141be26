import { referencedSecretNames, resolveRemoteServer } from '../../config/references.js';
import type { RemoteServerConfig } from '../../config/schema.js';
import type { Launcher } from '../downstream/downstream.js';
import { createGuardedFetch } from './guarded-fetch.js';
import { secretHeaderNames } from './headers.js';
import { withoutAbsent } from '../downstream/credential-plan.js';
import { EraRequests } from './era-cancel.js';
import { createInnerTransport } from './inner-transport.js';
import { challengeWatch, oauthFetch } from './oauth-fetch.js';
import { oauthDiscoverable } from '../../oauth/discovered.js';
import { RemoteSessionTransport } from './session-transport.js';
import { assertUrlAllowed, describeUrl, isCleartextRemote } from '../../config/url-policy.js';

/**
 * Connects to a remote MCP server (Streamable HTTP, or SSE), its secrets sent as HTTP headers (or in the URL) and
 * only to its origin. Nothing goes over the network before the client's own `initialize`, except SSE's event stream.
 */
export const launchRemote: Launcher<RemoteServerConfig> = async ({
  serverName,
  server,
  plan,
  parentEnv,
  logger,
  audit,
  oauth,
  onBearerChallenge,
  interactive,
  profile,
}) => {
  const resolved = resolveRemoteServer(
    { ...server, headers: withoutAbsent(server.headers, plan.absentOptional) },
    plan.values,
    parentEnv,
    profile,
  );
  const url = new URL(resolved.url);
  // The loader checked the configured URL; this checks the one that is actually used, once references are resolved.
  assertUrlAllowed(url, { serverName, allowHttp: server.allow_http });
  if (isCleartextRemote(url)) {
    logger.warn(
      { server: serverName, url: describeUrl(url) },
      `server "${serverName}" is reached over plain http ("allow_http": true): its credentials travel unencrypted`,
    );
  }
  const guarded = createGuardedFetch({
    serverName,
    origin: url.origin,
    secretHeaders: secretHeaderNames(server),
    allowHttp: server.allow_http,
    logger,
  });
  // One object for the session's whole life: the SDK reads it at each request, so new secret values replace its
  // entries in place (swapCredentials) and the next request carries them.
  const headers = { ...resolved.headers };
  const eraRequests = new EraRequests();
  // A server that may turn out to use OAuth: its 401 with a Bearer challenge asks for a login (the proxy gates it
  // then), not for a key.
  let challenged = false;
  const watch = !oauth && onBearerChallenge && oauthDiscoverable(server);
  const fetch = oauth
    ? oauthFetch(oauth, guarded, plan, { serverName, server, logger, interactive: interactive ?? false })
    : watch
      ? challengeWatch(guarded, (challenge) => {
          challenged = true;
          onBearerChallenge(challenge);
        })
      : guarded;
  const transport = new RemoteSessionTransport({
    serverName,
    eraRequests,
    mode: server.transport,
    logger,
    secretNames: referencedSecretNames(server),
    profile,
    loginRequired: () => challenged,
    onAuthRejected: (status) => audit.headerRejected(serverName, referencedSecretNames(server), status),
    create: (kind, onStreamEnd, onGetAnswered) =>
      createInnerTransport(kind, {
        url,
        headers,
        fetch,
        authProvider: oauth?.provider,
        onStreamEnd,
        onGetAnswered,
        eraRequests,
      }),
  });
  logger.info(
    {
      server: serverName,
      url: describeUrl(url),
      transport: server.transport,
      headers: Object.keys(resolved.headers),
      secrets: [...plan.values.keys()],
      oauth: oauth !== undefined,
    },
    'remote server',
  );
  if (plan.values.size > 0) audit.injection(serverName, [...plan.values.keys()], 'header');
  return {
    transport,
    endReason: () => transport.endReason,
    swapCredentials: (next) => {
      // OAuth's client secret and a secret in the URL are not headers: those need a new session.
      if (oauth) return false;
      const swapped = resolveRemoteServer(
        { ...server, headers: withoutAbsent(server.headers, next.absentOptional) },
        next.values,
        parentEnv,
      );
      if (swapped.url !== resolved.url) return false;
      for (const name of Object.keys(headers)) delete headers[name];
      Object.assign(headers, swapped.headers);
      if (next.values.size > 0) audit.injection(serverName, [...next.values.keys()], 'header');
      return true;
    },
  };
};
