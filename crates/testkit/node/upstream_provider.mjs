// An upstream OpenID provider no one here wrote — node oidc-provider — for the federation tests.
//
// Usage: node upstream_provider.mjs <port> <client_id> <client_secret> <redirect_uri>
// Prints "listening <issuer>" once it accepts connections. Its development interactions sign in
// any login name (the account's `sub` is the name); accounts whose name is an e-mail address
// have it as a verified `email`. As oidc-provider does by default, the ID token carries only
// `sub` and the protocol claims: the profile is served at userinfo.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
// The pinned packages are on NODE_PATH, which ES module imports do not search.
const load = (name, file) => import(pathToFileURL(join(process.env.NODE_PATH, name, file)).href);
const { default: Provider } = await load('oidc-provider', 'lib/index.js');

const issuer = `http://localhost:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name', 'department'],
  },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id, given_name: 'Olga', family_name: 'Provider', name: 'Olga Provider', department: 'R&D' };
        return id.includes('@') ? { ...claims, email: id, email_verified: true } : claims;
      },
    };
  },
  features: { devInteractions: { enabled: true } },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
