"""The official Python MCP SDK's own OAuth flow against ScaiKey, for the MCP authorization test.

Usage: mcp_oauth_client.py <mcp url> <e-mail> <password>

The SDK's OAuthClientProvider does what an MCP client does on a 401: reads the protected-resource
metadata, then the authorization server's metadata, registers itself (RFC 7591), sends the
person to the authorization endpoint with PKCE and `resource`, and redeems the code. The person
is played by a scripted browser without JavaScript (httpx with a cookie jar): it follows the
redirects, fills the hosted login form, allows the consent page, and hands the callback's code
to the SDK. Prints one JSON object: the registered client, the token's audience, the tools and
one call's result.
"""

import asyncio
import base64
import json
import re
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

CALLBACK = "http://127.0.0.1:33419/callback"


class Memory(TokenStorage):
    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, client_info):
        self.client = client_info


def field(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    if not m:
        raise RuntimeError(f"no {name} field in page: {html[:500]}")
    return m.group(1).replace("&amp;", "&").replace("&quot;", '"').replace("&#x27;", "'")


async def main():
    mcp_url, email, password = sys.argv[1], sys.argv[2], sys.argv[3]
    base = f"{urlparse(mcp_url).scheme}://{urlparse(mcp_url).netloc}"
    out = {"pages": []}
    pending = {}

    async def redirect_handler(url):
        pending["url"] = url
        out["authorize"] = {k: v[0] for k, v in parse_qs(urlparse(url).query).items() if k != "code_challenge"}

    async def callback_handler():
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as browser:
            url = pending["url"]
            for _ in range(12):
                if url.startswith(CALLBACK):
                    q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
                    return AuthorizationCodeResult(code=q.get("code"), state=q.get("state"), iss=q.get("iss"))
                r = await browser.get(urljoin(base, url))
                path = urlparse(str(r.url)).path
                out["pages"].append(f"{r.status_code} {path}")
                if r.status_code in (302, 303):
                    url = r.headers["location"]
                    continue
                html = r.text
                if path == "/login":
                    r = await browser.post(
                        base + "/login",
                        data={"csrf": field(html, "csrf"), "interaction": field(html, "interaction"),
                              "email": email, "password": password},
                    )
                elif path == "/consent":
                    r = await browser.post(
                        base + "/consent",
                        data={"csrf": field(html, "csrf"), "interaction": field(html, "interaction"), "decision": "allow"},
                    )
                else:
                    raise RuntimeError(f"unexpected page {r.status_code} {path}: {html[:300]}")
                out["pages"].append(f"{r.status_code} POST {path}")
                if r.status_code not in (302, 303):
                    raise RuntimeError(f"{path} answered {r.status_code}: {r.text[:300]}")
                url = r.headers["location"]
        raise RuntimeError(f"the authorization never reached the callback: {out['pages']} last {url}")

    storage = Memory()
    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="MCP SDK test client",
            redirect_uris=[CALLBACK],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
            scope="openid",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with streamable_http_client(mcp_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
                out["tools"] = len(listed.tools)
                r = await session.call_tool("list_users", {})
                structured = getattr(r, "structured_content", None)
                out["is_error"] = bool(getattr(r, "is_error", False))
                out["emails"] = [u["email"] for u in (structured or {}).get("items", [])]
    out["client_id"] = storage.client.client_id if storage.client else None
    token = storage.tokens.access_token if storage.tokens else ""
    payload = token.split(".")[1] if token.count(".") == 2 else ""
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))) if payload else {}
    out["aud"] = claims.get("aud")
    out["sub"] = claims.get("sub")
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
