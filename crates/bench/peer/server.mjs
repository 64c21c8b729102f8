// The benchmark peer: oidc-provider with an in-memory storage adapter.
//
// Usage: node server.mjs <port> <client_id> <client_secret>
// Prints "listening <port>" once it accepts connections. Configuration follows shared/PEER.md:
// - W1: client_credentials access tokens as ES256 JWTs (a resource server must be resolved for
//   the token to be a JWT; with only an EC key the client default id_token alg must be ES256).
// - W8, W9: the same client also holds the refresh_token grant; grants, refresh tokens and
//   access tokens are minted at `POST /bench/mint?n=N` (the peer has no password login to drive,
//   so the code flow's outcome is made directly through its models), then refreshed at /token
//   (rotated on every use, as ScaiKey does), read at /me (userinfo) and introspected at
//   /token/introspection.
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
const RESOURCE = 'https://api.bench.test';
const SCOPES = 'api:read api:write';
const USER_SCOPE = 'openid email offline_access';

// Storage: the provider's development adapter keeps at most 1,000 entries (an LRU), so under a
// refresh load it evicts live grants and tokens. This one keeps everything in one Map (the
// adapter interface of oidc-provider's docs): still in memory, so no durable write at all,
// which favours the peer next to ScaiKey's PostgreSQL.
const store = new Map();
const grants = new Map(); // grantId -> keys of its tokens
class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload) {
    const key = this.key(id);
    store.set(key, payload);
    if (payload.grantId) {
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
      grants.get(payload.grantId).add(key);
    }
    if (payload.uid) store.set(`uid:${payload.uid}`, id);
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, id);
  }

  async find(id) {
    return store.get(this.key(id));
  }

  async findByUid(uid) {
    const id = store.get(`uid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = store.get(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
  }
}

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  adapter: MapAdapter,
  jwks: { keys: [jwk] },
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials', 'refresh_token', 'authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://rp.bench.test/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@bench.test`, email_verified: true }),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Only client_credentials asks for the resource server; user tokens stay for userinfo.
      defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? RESOURCE : undefined),
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

// What a code flow would have left: a grant, a refresh token and an access token per user.
async function mint(n) {
  const client = await provider.Client.find(clientId);
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const accountId = `bench-user-${i}`;
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(USER_SCOPE);
    const grantId = await grant.save();
    const authTime = Math.floor(Date.now() / 1000);
    const common = { accountId, client, grantId, gty: 'authorization_code', authTime };
    const refresh = await new provider.RefreshToken({ ...common, scope: USER_SCOPE }).save();
    const access = await new provider.AccessToken({ ...common, scope: 'openid email' }).save();
    out.push({ refresh_token: refresh, access_token: access });
  }
  return out;
}

const handle = provider.callback();
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url.startsWith('/bench/mint')) {
    const n = Math.min(Number(new URL(req.url, 'http://x').searchParams.get('n')) || 1, 1000);
    mint(n).then(
      (tokens) => {
        const body = JSON.stringify(tokens);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      (err) => {
        console.error('mint', err);
        res.writeHead(500, { 'content-length': 0 });
        res.end();
      },
    );
    return;
  }
  handle(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${port}`);
});
