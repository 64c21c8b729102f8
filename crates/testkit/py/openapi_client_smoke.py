"""Drives ScaiKey with a Python client generated from its own OpenAPI document.

usage: openapi_client_smoke.py BASE_URL OPENAPI_JSON

The generated package `scaikey_client` must be importable (PYTHONPATH). SCAIKEY_ADMIN_EMAIL and
SCAIKEY_ADMIN_PASSWORD name the bootstrap super admin. Every call goes through the typed
operations and models; on top of that, every answer is checked against the document: its status
must be documented for the operation, its body must match the documented schema (JSON Schema
2020-12, as OpenAPI 3.1 defines it) and the documented headers must be present. Prints one JSON
line with what was checked; exits non-zero on the first broken expectation or with the list of
answers that disagree with the document.
"""

import json
import os
import re
import sys
import uuid
from http import HTTPStatus

import httpx
import jsonschema

from scaikey_client import AuthenticatedClient, Client
from scaikey_client.api.auth import login
from scaikey_client.api.meta import get_health, get_jwks, openid_configuration
from scaikey_client.api.partners import create_partner, delete_partner, get_partner, list_partners
from scaikey_client.api.tenants import create_tenant, delete_tenant
from scaikey_client.api.users import create_user
from scaikey_client.models import (
    ErrorDetail,
    Health,
    HTTPValidationError,
    Jwks,
    LoginBody,
    MfaMethod,
    PartnerCreate,
    PartnerList,
    PartnerOut,
    Status,
    TenantCreate,
    TenantOut,
    TenantSettings,
    TokenOut,
    TokenType,
    UserCreate,
    UserOut,
)

BASE, DOC_PATH = sys.argv[1], sys.argv[2]
DOC = json.load(open(DOC_PATH, encoding="utf-8"))
COMPONENTS = DOC["components"]


def template_regex(path):
    parts = ["[^/]+" if seg.startswith("{") else re.escape(seg) for seg in path.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


# Literal paths before templated ones, so `/a/stats` wins over `/a/{id}`.
ROUTES = sorted(((template_regex(p), p) for p in DOC["paths"]), key=lambda r: r[1].count("{"))
checked = []
problems = []


def documented(method, path, status):
    for rx, template in ROUTES:
        if rx.match(path) and method in DOC["paths"][template]:
            op = DOC["paths"][template][method]
            answer = op["responses"].get(str(status))
            if answer is not None and "$ref" in answer:
                answer = COMPONENTS["responses"][answer["$ref"].rsplit("/", 1)[1]]
            return op["operationId"], answer
    return None, None


def conform(response: httpx.Response):
    """httpx response hook: the answer is one the document describes."""
    response.read()
    method, path, status = response.request.method.lower(), response.request.url.path, response.status_code
    op_id, answer = documented(method, path, status)
    where = f"{method.upper()} {path} -> {status}"
    checked.append(f"{op_id}:{status}")
    if op_id is None:
        problems.append(f"{where}: no documented operation")
        return
    if answer is None:
        problems.append(f"{where}: status not documented for {op_id}")
        return
    for header in answer.get("headers", {}):
        if header not in response.headers:
            problems.append(f"{where}: documented header {header} missing")
    content = answer.get("content")
    if not content:
        if response.content:
            problems.append(f"{where}: documented without a body, got {response.content[:200]!r}")
        return
    media = content.get("application/json")
    if media is None or not response.headers.get("content-type", "").startswith("application/json"):
        problems.append(f"{where}: expected JSON, got {response.headers.get('content-type')}")
        return
    schema = {**media["schema"], "components": COMPONENTS}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for e in validator.iter_errors(response.json()):
        problems.append(f"{where}: body breaks the schema at {list(e.absolute_path)}: {e.message}")


HOOKS = {"event_hooks": {"response": [conform]}}


def expect(cond, what):
    if not cond:
        print(json.dumps({"failed": what, "problems": problems}))
        sys.exit(1)


def pattern(schema_name):
    return re.compile(COMPONENTS["schemas"][schema_name]["pattern"])


anonymous = Client(base_url=BASE, httpx_args=HOOKS, raise_on_unexpected_status=True)

health = get_health.sync(client=anonymous)
expect(isinstance(health, Health) and health.status == "ok", f"healthz: {health!r}")
keys = get_jwks.sync(client=anonymous)
expect(isinstance(keys, Jwks) and keys.keys and keys.keys[0].kid, f"jwks: {keys!r}")
discovery = openid_configuration.sync(client=anonymous)
expect(discovery is not None and discovery.jwks_uri.endswith("/.well-known/jwks.json"), f"discovery: {discovery!r}")

# 401 from the generated client, with its WWW-Authenticate header (checked by the hook).
r = list_partners.sync_detailed(client=anonymous)
expect(r.status_code == HTTPStatus.UNAUTHORIZED and isinstance(r.parsed, ErrorDetail), f"anonymous list: {r}")

r = login.sync_detailed(
    client=anonymous,
    body=LoginBody(email=os.environ["SCAIKEY_ADMIN_EMAIL"], password="not the password"),
)
expect(r.status_code == HTTPStatus.UNAUTHORIZED and r.parsed.detail == "Invalid credentials", f"bad login: {r}")
token = login.sync(
    client=anonymous,
    body=LoginBody(email=os.environ["SCAIKEY_ADMIN_EMAIL"], password=os.environ["SCAIKEY_ADMIN_PASSWORD"]),
)
expect(isinstance(token, TokenOut) and token.token_type == TokenType.BEARER and token.expires_in > 0, "login")
admin = AuthenticatedClient(base_url=BASE, token=token.access_token, httpx_args=HOOKS, raise_on_unexpected_status=True)

suffix = uuid.uuid4().hex[:10]
r = create_partner.sync_detailed(
    client=admin,
    body=PartnerCreate(name=f"Smoke Partner {suffix}", contact_email="ops@smoke.example", max_tenants=2),
)
expect(r.status_code == HTTPStatus.CREATED and isinstance(r.parsed, PartnerOut), f"create partner: {r}")
partner = r.parsed
expect(pattern("PartnerId").match(partner.id), f"partner id shape: {partner.id}")
expect(partner.slug == f"smoke-partner-{suffix}" and partner.status == Status.ACTIVE, f"partner: {partner}")
expect(partner.max_tenants == 2 and partner.max_users_per_tenant is None, f"partner limits: {partner}")

r = create_partner.sync_detailed(client=admin, body=PartnerCreate(name="Other", slug=partner.slug))
expect(r.status_code == HTTPStatus.CONFLICT and isinstance(r.parsed, ErrorDetail), f"duplicate slug: {r}")

page = list_partners.sync(client=admin, search=suffix.upper(), per_page=5, status=Status.ACTIVE)
expect(isinstance(page, PartnerList), f"list partners: {page!r}")
expect([p.id for p in page.items] == [partner.id], f"search found {[p.id for p in page.items]}")
expect(page.pagination.total == 1 and page.pagination.per_page == 5 and page.pagination.page == 1, "pagination")

got = get_partner.sync(client=admin, partner_id=partner.id)
expect(isinstance(got, PartnerOut) and got.name == partner.name, f"get partner: {got!r}")

r = get_partner.sync_detailed(client=admin, partner_id="prt_" + "0" * 26)
expect(r.status_code == HTTPStatus.NOT_FOUND and r.parsed.detail == "Partner not found", f"missing partner: {r}")
r = get_partner.sync_detailed(client=admin, partner_id="not-an-id")
expect(r.status_code == HTTPStatus.NOT_FOUND and isinstance(r.parsed, ErrorDetail), f"malformed id: {r}")

# 422 for a bad body and for a bad query, each located.
r = create_partner.sync_detailed(client=admin, body=PartnerCreate(name="  ", contact_email="not-an-email"))
expect(r.status_code == HTTPStatus.UNPROCESSABLE_ENTITY and isinstance(r.parsed, HTTPValidationError), f"422: {r}")
locs = sorted(tuple(e.loc) for e in r.parsed.detail)
expect(locs == [("body", "contact_email"), ("body", "name")], f"422 locations: {locs}")
r = list_partners.sync_detailed(client=admin, per_page=101)
expect(r.status_code == HTTPStatus.UNPROCESSABLE_ENTITY and r.parsed.detail[0].loc == ["query", "per_page"], f"{r}")

# A tenant under the partner, with typed settings; the partner cannot go while it stands.
r = create_tenant.sync_detailed(
    client=admin,
    body=TenantCreate(
        name=f"Smoke Tenant {suffix}",
        partner_id=partner.id,
        settings=TenantSettings(mfa_required=True, mfa_methods=[MfaMethod.TOTP], session_timeout=90),
    ),
)
expect(r.status_code == HTTPStatus.CREATED and isinstance(r.parsed, TenantOut), f"create tenant: {r}")
tenant = r.parsed
expect(tenant.partner_id == partner.id and tenant.settings.mfa_methods == [MfaMethod.TOTP], f"tenant: {tenant}")
expect(tenant.settings.session_timeout == 90, f"tenant settings: {tenant.settings}")
r = delete_partner.sync_detailed(client=admin, partner_id=partner.id)
expect(r.status_code == HTTPStatus.CONFLICT, f"delete partner with a tenant: {r}")
r = delete_tenant.sync_detailed(client=admin, tenant_id=tenant.id)
expect(r.status_code == HTTPStatus.NO_CONTENT and r.content == b"", f"delete tenant: {r}")
r = delete_partner.sync_detailed(client=admin, partner_id=partner.id)
expect(r.status_code == HTTPStatus.NO_CONTENT, f"delete partner: {r}")
r = get_partner.sync_detailed(client=admin, partner_id=partner.id)
expect(r.status_code == HTTPStatus.NOT_FOUND, f"deleted partner: {r}")

# Every operation, called by nobody and by a user without an admin role, answers with a status
# and body its documentation names (placeholder path IDs, empty bodies).
holder = create_tenant.sync(client=admin, body=TenantCreate(name=f"Sweep {suffix}"))
password = "Sweep-passw0rd-" + suffix
user = create_user.sync(
    client=admin,
    body=UserCreate(email=f"nobody-{suffix}@smoke.example", password=password, tenant_id=holder.id, roles=[]),
)
expect(isinstance(user, UserOut) and user.roles == [], f"role-less user: {user!r}")
nobody = login.sync(client=anonymous, body=LoginBody(email=user.email, password=password, tenant_id=holder.id))
expect(isinstance(nobody, TokenOut), "role-less login")
swept = 0
with httpx.Client(base_url=BASE, **HOOKS) as raw:
    for auth in [None, nobody.access_token]:
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        for path, item in DOC["paths"].items():
            for method, op in item.items():
                concrete = "/".join("x" if seg.startswith("{") else seg for seg in path.split("/"))
                content = op.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    kwargs = {"json": {}}
                elif content:
                    kwargs = {"data": {"grant_type": "client_credentials"}}
                else:
                    kwargs = {}
                raw.request(method.upper(), concrete, headers=headers, **kwargs)
                swept += 1
delete_tenant.sync_detailed(client=admin, tenant_id=holder.id)

expect(not problems, "answers that disagree with the document")
print(json.dumps({"ok": True, "answers_checked": len(checked), "swept": swept, "answers": sorted(set(checked))}))
