// A real OpenID Connect provider (node oidc-provider) on loopback, for the single sign-on
// journey. Accounts and their groups come from OIDC_TEST_ACCOUNTS (JSON); any password is
// accepted by the provider's development login page.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_TEST_ACCOUNTS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_TEST_CLIENT_ID,
    client_secret: process.env.OIDC_TEST_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_TEST_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'given_name', 'family_name'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, email_verified: true, ...account };
      },
    };
  },
  pkce: { required: () => false },
  cookies: { keys: ['test-only-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});

provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
