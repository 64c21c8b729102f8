"""A stock OAuth client (authlib) that knows only ScaiKey's issuer URL and a client's credentials.

It reads the discovery document and nothing else, gets client-credentials tokens with
client_secret_basic and client_secret_post, with and without an RFC 8707 resource, verifies each
token's signature against the published JWKS with joserfc, and prints what it saw as JSON.

usage: discovery_client.py ISSUER CLIENT_ID CLIENT_SECRET SCOPE RESOURCE
"""

import json
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet


def main() -> None:
    issuer, client_id, secret, scope, resource = sys.argv[1:6]
    meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    rfc8414 = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert meta == rfc8414, "the two metadata documents differ"
    assert meta["issuer"] == issuer, meta["issuer"]
    assert "client_credentials" in meta["grant_types_supported"]
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())

    def verified(access_token: str, audience: str) -> dict:
        token = jwt.decode(access_token, keys)
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
        )
        registry.validate(token.claims)
        return {"header": dict(token.header), "claims": token.claims}

    out = {"token_endpoint": meta["token_endpoint"]}
    methods = meta["token_endpoint_auth_methods_supported"]
    assert "none" in methods, "public clients (PKCE) authenticate with none"
    for method in [m for m in methods if m.startswith("client_secret_")]:
        session = OAuth2Session(client_id, secret, scope=scope, token_endpoint_auth_method=method)
        with_resource = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials", resource=resource)
        plain = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
        out[method] = {
            "with_resource": verified(with_resource["access_token"], resource) | {"scope": with_resource["scope"]},
            "plain": verified(plain["access_token"], "scaikey") | {"scope": plain["scope"]},
        }
    session = OAuth2Session(client_id, secret, scope=scope)
    try:
        session.fetch_token(meta["token_endpoint"], grant_type="client_credentials", resource="https://elsewhere.example")
        out["foreign_resource"] = "issued"
    except OAuthError as e:
        out["foreign_resource"] = e.error
    print(json.dumps(out))


if __name__ == "__main__":
    main()
