"""A SAML 2.0 identity provider no one here wrote (pysaml2, signing with Debian's xmlsec1), for
the SAML sign-in tests: it reads ScaiKey's SP metadata, parses the AuthnRequest of a
redirect-binding URL and answers it with a SAMLResponse, honest or forged as `MODE` says.

usage: saml_idp.py MODE IDP_ENTITY_ID SSO_URL KEY_FILE CERT_FILE SP_METADATA_URL AUTHN_URL NAME_ID EMAIL

MODE:
  assertion      the assertion signed (the response not)
  response       the response signed (the assertion not)
  both           both signed
  unsigned       nothing signed
  tampered       the assertion signed, then its e-mail changed
  wrapped        signature wrapping: the signed assertion for NAME_ID/EMAIL moved out of the
                 way, a forged unsigned assertion for mallory@ put where a reader looks first
  idp-initiated  an unsolicited response (no InResponseTo)
  audience       signed, but for another service provider

It prints one JSON object: the ACS URL, the SAMLResponse (base64) and the RelayState.
"""

import base64
import json
import re
import sys
from urllib.parse import parse_qs, urlparse

import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

ASSERTION = re.compile(r"<(?P<p>[\w-]+:)?Assertion\b.*?</(?P=p)?Assertion>", re.S)


def main() -> None:
    mode, idp_id, sso_url, key, cert, sp_metadata_url, authn_url, name_id, email = sys.argv[1:10]
    sp_metadata = requests.get(sp_metadata_url, timeout=10).text
    cfg = IdPConfig()
    cfg.load(
        {
            "entityid": idp_id,
            "key_file": key,
            "cert_file": cert,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"inline": [sp_metadata]},
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                }
            },
        }
    )
    idp = Server(config=cfg)
    q = parse_qs(urlparse(authn_url).query)
    request = idp.parse_authn_request(q["SAMLRequest"][0], BINDING_HTTP_REDIRECT).message
    relay = q.get("RelayState", [""])[0]
    acs = request.assertion_consumer_service_url
    sp_entity = request.issuer.text
    identity = {"mail": [email], "givenName": ["Kim"], "sn": ["Lee"], "department": ["R&D"]}

    def respond(who: dict, subject: str, sign_assertion: bool, sign_response: bool, in_response_to, audience=None) -> str:
        resp = idp.create_authn_response(
            who,
            in_response_to,
            acs,
            audience or sp_entity,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=subject),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
            sign_assertion=sign_assertion,
            sign_response=sign_response,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return str(resp)

    if mode == "assertion":
        xml = respond(identity, name_id, True, False, request.id)
    elif mode == "response":
        xml = respond(identity, name_id, False, True, request.id)
    elif mode == "both":
        xml = respond(identity, name_id, True, True, request.id)
    elif mode == "unsigned":
        xml = respond(identity, name_id, False, False, request.id)
    elif mode == "tampered":
        xml = respond(identity, name_id, True, False, request.id).replace(email, "mallory@evil.example")
    elif mode == "wrapped":
        genuine = respond(identity, name_id, True, False, request.id)
        signed = ASSERTION.search(genuine).group(0)
        forged_identity = dict(identity, mail=["mallory@evil.example"])
        forged = ASSERTION.search(respond(forged_identity, "mallory", False, False, request.id)).group(0)
        # The forged assertion where the genuine one was; the signed one after it, so the
        # signature still verifies over its own (moved) element.
        xml = genuine.replace(signed, forged + signed)
    elif mode == "idp-initiated":
        xml = respond(identity, name_id, True, False, None)
    elif mode == "audience":
        xml = respond(identity, name_id, True, False, request.id, audience="https://someone-else.example/sp")
    else:
        raise SystemExit(f"unknown mode {mode}")
    out = {"acs": acs, "SAMLResponse": base64.b64encode(xml.encode()).decode(), "RelayState": relay}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
