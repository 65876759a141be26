import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { AddClientAuthentication } from '@modelcontextprotocol/sdk/client/auth.js';
import type { PRIVATE_KEY_ALGS } from '../config/schema.js';
import { KeyproxyError } from '../errors.js';
import { privateKeyName, type OAuthSettings } from './settings.js';

/** A signing algorithm of a private_key_jwt client assertion. */
export type PrivateKeyAlg = (typeof PRIVATE_KEY_ALGS)[number];

/** A pre-registered client's private key, checked: PKCS#8 PEM (what the SDK imports) and the algorithm it signs with. */
export interface ClientKey {
  pkcs8: string;
  alg: PrivateKeyAlg;
}

const EC_ALG: Record<string, PrivateKeyAlg> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** The algorithms a key can sign with; the first is the default. */
function algsFor(key: KeyObject): PrivateKeyAlg[] {
  if (key.asymmetricKeyType === 'rsa') return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  if (key.asymmetricKeyType === 'rsa-pss') return ['PS256', 'PS384', 'PS512'];
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const alg = curve ? EC_ALG[curve] : undefined;
  return alg ? [alg] : [];
}

/**
 * Reads the private key of `"private_key": "${secret:NAME}"` (PEM: PKCS#8, or PKCS#1 for RSA and SEC1 for EC), and
 * picks its algorithm: `alg` when given and the key can sign with it, else RS256 for RSA, ES256 / ES384 / ES512 for
 * a P-256 / P-384 / P-521 key. An error names the server and the secret, never anything of the key.
 */
export function readClientKey(serverName: string, secretName: string, pem: string, alg?: PrivateKeyAlg): ClientKey {
  const where = `The OAuth private key of server "${serverName}" (\${secret:${secretName}})`;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // Node's message is about the decoder, not the key; it is still left out.
    throw new KeyproxyError(
      'SECRET_INVALID',
      `${where} is not a PEM private key (PKCS#8 "BEGIN PRIVATE KEY", or "BEGIN RSA PRIVATE KEY" / "BEGIN EC PRIVATE KEY", unencrypted). Store the key with:\n  mcp-keyproxy secrets set ${serverName} ${secretName} < key.pem`,
    );
  }
  const usable = algsFor(key);
  if (usable.length === 0) {
    throw new KeyproxyError(
      'SECRET_INVALID',
      `${where} is a ${key.asymmetricKeyType ?? 'unknown'} key; private_key_jwt takes an RSA key or an EC key on P-256, P-384 or P-521.`,
    );
  }
  if (alg !== undefined && !usable.includes(alg)) {
    throw new KeyproxyError(
      'CONFIG_INVALID',
      `"private_key_alg": "${alg}" of server "${serverName}" does not fit its private key (${key.asymmetricKeyType} key: ${usable.join(', ')}).`,
    );
  }
  const pkcs8 = key.export({ format: 'pem', type: 'pkcs8' });
  return { pkcs8: typeof pkcs8 === 'string' ? pkcs8 : pkcs8.toString('utf8'), alg: alg ?? usable[0]! };
}

/**
 * private_key_jwt client authentication (RFC 7523 §2.2) of `clientId` for the SDK's token requests: a JWT signed
 * with the key, `iss` and `sub` the client id, `aud` the authorization server's issuer (else the token endpoint),
 * valid for 5 minutes. The SDK's `createPrivateKeyJwtAuth` builds it; it and jose load on the first token request.
 */
export function privateKeyJwtAuth(clientId: string, key: ClientKey): AddClientAuthentication {
  let built: Promise<AddClientAuthentication> | undefined;
  return async (headers, params, url, metadata) => {
    built ??= import('@modelcontextprotocol/sdk/client/auth-extensions.js').then(({ createPrivateKeyJwtAuth }) =>
      createPrivateKeyJwtAuth({ issuer: clientId, subject: clientId, privateKey: key.pkcs8, alg: key.alg }),
    );
    const authenticate = await built;
    // The assertion is the client's authentication: no secret and no Basic header go with it.
    headers.delete('authorization');
    params.delete('client_secret');
    // Optional beside an assertion (RFC 7521 §4.2), and some servers look the client up by it first.
    params.set('client_id', clientId);
    await authenticate(headers, params, url, metadata);
  };
}

/**
 * private_key_jwt authentication of the pre-registered client of `settings` with `privateKey` (its PEM, read from the
 * keychain); undefined when the settings name no key or no key was read. Throws as `readClientKey` does.
 */
export function clientKeyAuthentication(
  serverName: string,
  settings: OAuthSettings,
  privateKey: string | undefined,
): AddClientAuthentication | undefined {
  const keyName = privateKeyName(settings);
  if (!privateKey || !keyName || !settings.client_id) return undefined;
  return privateKeyJwtAuth(settings.client_id, readClientKey(serverName, keyName, privateKey, settings.private_key_alg));
}
