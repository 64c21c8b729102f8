"""A stock relying party (authlib + joserfc) signing a person in through ScaiKey's hosted login.

It knows only the issuer, its client credentials and the person's e-mail and password. It reads
discovery, builds the authorization request (code + PKCE S256 + state + nonce), plays the browser
with a cookie-keeping `requests.Session` (GET the request, follow to the login page, submit the
form with its CSRF token), redeems the code, verifies the ID token against the JWKS, calls
userinfo and refreshes. Then it tries what must fail. It prints what it saw as one JSON object.

usage: oidc_code_flow.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI EMAIL PASSWORD [POST_LOGOUT_URI]
"""

import json
import re
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet


def field(html: str, name: str) -> str:
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    assert m, f"no {name} field in the page"
    return m.group(1).replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")


class Browser:
    """A person's browser: keeps cookies, shows where each redirect leads."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def get(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=10)

    def sign_in(self, issuer: str, authorize_url: str, email: str, password: str, redirect_uri: str) -> dict:
        """Follows the flow until the redirect to the client; returns what it saw."""
        seen = {}
        r = self.get(authorize_url)
        hops = 0
        while r.status_code in (302, 303) and hops < 5:
            hops += 1
            location = urljoin(issuer, r.headers["location"])
            if location.startswith(redirect_uri):
                seen["callback"] = location
                return seen
            r = self.get(location)
            if r.status_code == 200 and 'name="password"' in r.text:
                seen["login_page"] = {
                    "csp": r.headers.get("content-security-policy", ""),
                    "nosniff": r.headers.get("x-content-type-options", ""),
                    "referrer": r.headers.get("referrer-policy", ""),
                    "labels": all(f'<label for="{n}">' in r.text for n in ("email", "password")),
                }
                form = {
                    "interaction": field(r.text, "interaction"),
                    "csrf": field(r.text, "csrf"),
                    "email": email,
                    "password": password,
                }
                r = self.http.post(urljoin(issuer, "/login"), data=form, allow_redirects=False, timeout=10)
                seen["login_status"] = r.status_code
                seen["set_cookie"] = r.headers.get("set-cookie", "")
        seen["final_status"] = r.status_code
        seen["final_body"] = r.text[:500]
        return seen


def main() -> None:
    issuer, client_id, secret, redirect_uri, email, password = sys.argv[1:7]
    meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    out = {"discovery": {k: meta[k] for k in ("authorization_endpoint", "code_challenge_methods_supported", "response_types_supported")}}

    def client() -> OAuth2Session:
        return OAuth2Session(
            client_id, secret, scope="openid email profile groups", redirect_uri=redirect_uri, code_challenge_method="S256"
        )

    # 1. The whole code flow.
    rp = client()
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    browser = Browser()
    seen = browser.sign_in(issuer, url, email, password, redirect_uri)
    out["first"] = {k: v for k, v in seen.items() if k != "callback"}
    if "callback" not in seen:
        # The login page came back (refused credentials): report what it said.
        print(json.dumps(out))
        return
    callback = seen["callback"]
    q = parse_qs(urlparse(callback).query)
    if "error" in q:
        # The provider refused the sign-in; report how, with nothing more to try.
        out["callback_error"] = {k: v[0] for k, v in q.items()}
        print(json.dumps(out))
        return
    out["callback_params"] = sorted(q)
    out["callback_iss"] = q["iss"][0]
    out["state_echoed"] = q["state"][0] == state
    token = rp.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    id_token = jwt.decode(token["id_token"], keys)
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(id_token.claims)
    out["id_token"] = {"header": dict(id_token.header), "claims": id_token.claims}
    access = jwt.decode(token["access_token"], keys)
    out["access_token"] = {"header": dict(access.header), "claims": access.claims}
    out["token_response"] = sorted(token.keys())
    out["userinfo"] = rp.get(meta["userinfo_endpoint"]).json()

    # 2. A second authorization in the same browser needs no login (SSO).
    rp2 = client()
    v2 = generate_token(48)
    url2, _ = rp2.create_authorization_url(meta["authorization_endpoint"], code_verifier=v2, nonce="n2")
    seen2 = browser.sign_in(issuer, url2, email, password, redirect_uri)
    out["sso_without_login_page"] = "callback" in seen2 and "login_page" not in seen2

    # 3. Refresh rotates; the replaced token still works once within the grace; later never.
    refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    out["refresh_rotated"] = refreshed["refresh_token"] != token["refresh_token"]
    out["refresh_has_id_token"] = "id_token" in refreshed

    def token_error(data: dict, auth=None) -> str:
        r = requests.post(meta["token_endpoint"], data=data, auth=auth, timeout=10)
        return f"{r.status_code} {r.json().get('error')}"

    basic = (client_id, secret)
    # 4. Error paths. The code reused here comes from a browser of its own: its reuse ends the
    # sign-in's SSO session, which the tokens above still need.
    rp3 = client()
    v3 = generate_token(48)
    url3, _ = rp3.create_authorization_url(meta["authorization_endpoint"], code_verifier=v3, nonce="n3")
    seen3 = Browser().sign_in(issuer, url3, email, password, redirect_uri)
    code3 = parse_qs(urlparse(seen3["callback"]).query)["code"][0]
    out["errors"] = {
        "wrong_verifier": token_error(
            {"grant_type": "authorization_code", "code": code3, "redirect_uri": redirect_uri, "code_verifier": "x" * 43},
            basic,
        ),
    }
    ok3 = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code3, "redirect_uri": redirect_uri, "code_verifier": v3},
        auth=basic,
        timeout=10,
    )
    out["errors"]["code_after_a_failed_try"] = ok3.status_code
    out["errors"]["reused_code"] = token_error(
        {"grant_type": "authorization_code", "code": code3, "redirect_uri": redirect_uri, "code_verifier": v3}, basic
    )
    # The reuse revoked the refresh token the code had issued, and its access token.
    out["errors"]["refresh_of_reused_code"] = token_error(
        {"grant_type": "refresh_token", "refresh_token": ok3.json()["refresh_token"]}, basic
    )
    out["errors"]["userinfo_of_reused_code"] = requests.get(
        meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {ok3.json()['access_token']}"}, timeout=10
    ).status_code
    out["errors"]["access_of_reused_code"] = (
        requests.post(
            meta["introspection_endpoint"], data={"token": ok3.json()["access_token"]}, auth=basic, timeout=10
        )
        .json()
        .get("active")
    )
    out["errors"]["wrong_secret"] = token_error({"grant_type": "refresh_token", "refresh_token": "x"}, (client_id, "nope"))
    out["errors"]["unknown_refresh"] = token_error({"grant_type": "refresh_token", "refresh_token": "x" * 43}, basic)
    out["errors"]["implicit"] = browser.get(
        meta["authorization_endpoint"] + f"?client_id={client_id}&redirect_uri={redirect_uri}&response_type=token&state=s1"
    ).headers.get("location", "")
    bad_redirect = browser.get(
        meta["authorization_endpoint"] + f"?client_id={client_id}&redirect_uri=https://evil.example/cb&response_type=code"
    )
    out["errors"]["foreign_redirect"] = [bad_redirect.status_code, bad_redirect.headers.get("location")]
    unknown = browser.get(meta["authorization_endpoint"] + "?client_id=ck_nobody&redirect_uri=https://x.example/cb&response_type=code")
    out["errors"]["unknown_client"] = unknown.status_code
    fresh = Browser()
    none = fresh.get(
        meta["authorization_endpoint"]
        + f"?client_id={client_id}&redirect_uri={redirect_uri}&response_type=code&scope=openid&prompt=none&state=s2"
    )
    out["errors"]["prompt_none_without_session"] = none.headers.get("location", "")
    if len(sys.argv) > 7:
        out["session_end"] = session_end(meta, client, issuer, email, password, redirect_uri, sys.argv[7])
    out["refresh_token_after_rotation"] = refreshed["refresh_token"]
    out["replaced_refresh_token"] = token["refresh_token"]
    out["access_token_value"] = refreshed["access_token"]
    print(json.dumps(out))


def session_end(meta: dict, client, issuer: str, email: str, password: str, redirect_uri: str, post_logout: str) -> dict:
    """Introspection, revocation and RP-initiated logout, in a browser of their own."""
    rp = client()
    verifier = generate_token(48)
    url, _ = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce="n3")
    browser = Browser()
    seen = browser.sign_in(issuer, url, email, password, redirect_uri)
    token = rp.fetch_token(meta["token_endpoint"], authorization_response=seen["callback"], code_verifier=verifier)
    out = {}

    def introspect(t: str) -> dict:
        r = rp.introspect_token(meta["introspection_endpoint"], token=t)
        return r.json()

    out["access"] = introspect(token["access_token"])
    out["refresh"] = introspect(token["refresh_token"])
    out["garbage"] = introspect("not-a-token")
    out["revoke_status"] = rp.revoke_token(meta["revocation_endpoint"], token=token["refresh_token"]).status_code
    out["refresh_after_revoke"] = introspect(token["refresh_token"])
    # A second grant in the same browser, then logout ends the session and what it bound.
    verifier2 = generate_token(48)
    url2, _ = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier2, nonce="n4")
    seen2 = browser.sign_in(issuer, url2, email, password, redirect_uri)
    token2 = rp.fetch_token(meta["token_endpoint"], authorization_response=seen2["callback"], code_verifier=verifier2)
    r = browser.http.get(
        meta["end_session_endpoint"],
        params={"id_token_hint": token2["id_token"], "post_logout_redirect_uri": post_logout, "state": "bye now"},
        allow_redirects=False,
        timeout=10,
    )
    out["logout"] = {"status": r.status_code, "location": r.headers.get("location"), "set_cookie": r.headers.get("set-cookie", "")}
    out["cookie_left"] = [c.name for c in browser.http.cookies if c.name == "scaikey_session"]
    out["userinfo_after_logout"] = requests.get(
        meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token2['access_token']}"}, timeout=10
    ).status_code
    after = introspect(token2["refresh_token"])
    out["refresh_after_logout"] = after.get("active", after)
    verifier3 = generate_token(48)
    url3, _ = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier3, nonce="n5")
    r3 = browser.get(url3)
    out["after_logout_location"] = r3.headers.get("location", "")
    bad = browser.http.get(
        meta["end_session_endpoint"], params={"post_logout_redirect_uri": "https://evil.example/"}, allow_redirects=False, timeout=10
    )
    out["unregistered_post_logout"] = [bad.status_code, bad.headers.get("location")]
    return out


if __name__ == "__main__":
    try:
        main()
    except OAuthError as e:
        print(f"OAuthError {e.error}: {e.description}", file=sys.stderr)
        raise
