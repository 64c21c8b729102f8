"""A stock relying party (authlib + joserfc) of a downstream ScaiKey whose tenant federates.

It knows only the downstream issuer, its client credentials, the identity provider to ask for
(`idp=`) and the person's upstream e-mail and password. It reads discovery, builds the
authorization request (code + PKCE S256 + state + nonce + idp), plays the browser with a
cookie-keeping `requests.Session` across both servers (the downstream sends it to the upstream
ScaiKey's login page and back), redeems the code and verifies the ID token against the JWKS,
then calls userinfo. It prints what it saw as one JSON object.

usage: federated_rp.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI IDP_ID EMAIL PASSWORD
"""

import json
import re
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet


def field(html: str, name: str) -> str:
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    assert m, f"no {name} field in the page"
    return m.group(1).replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")


def main() -> None:
    issuer, client_id, secret, redirect_uri, idp, email, password = sys.argv[1:8]
    meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    rp = OAuth2Session(client_id, secret, scope="openid email profile", redirect_uri=redirect_uri, code_challenge_method="S256")
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, idp=idp)

    browser = requests.Session()
    hosts, callback = [], None
    r = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if r.status_code in (302, 303):
            location = urljoin(r.url, r.headers["location"])
            if location.startswith(redirect_uri):
                callback = location
                break
            hosts.append(urlparse(location).netloc)
            r = browser.get(location, allow_redirects=False, timeout=10)
        elif r.status_code == 200 and 'name="password"' in r.text:
            # The upstream's login page.
            form = {"interaction": field(r.text, "interaction"), "csrf": field(r.text, "csrf"), "email": email, "password": password}
            r = browser.post(urljoin(r.url, "/login"), data=form, allow_redirects=False, timeout=10)
        else:
            break
    out = {"hosts": hosts}
    if callback is None:
        out["final"] = {"status": r.status_code, "body": r.text[:400]}
        print(json.dumps(out))
        return
    q = parse_qs(urlparse(callback).query)
    out["state_echoed"] = q.get("state", [""])[0] == state
    out["callback_iss"] = q.get("iss", [""])[0]
    token = rp.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    id_token = jwt.decode(token["id_token"], keys)
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(id_token.claims)
    out["id_token"] = id_token.claims
    out["userinfo"] = rp.get(meta["userinfo_endpoint"]).json()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
