// The W1 peer: oidc-provider issuing client_credentials access tokens as ES256 JWTs.
//
// Usage: node server.mjs <port> <client_id> <client_secret>
// Prints "listening <port>" once it accepts connections. Configuration follows shared/PEER.md:
// a resource server must be resolved for the token to be a JWT, and with only an EC key the
// client default id_token alg must be ES256.
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const RESOURCE = 'https://api.bench.test';
const SCOPES = 'api:read api:write';

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: [jwk] },
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      getResourceServerInfo: () => ({
        scope: SCOPES,
        audience: RESOURCE,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
        accessTokenTTL: 3600,
      }),
    },
  },
});
// Quiet: no per-request logging in a benchmark.
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${port}`);
});
