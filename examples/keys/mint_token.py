"""Mints a token for the example stack's development issuer (stacks/fraud-gateway).

    python3 examples/keys/mint_token.py [--scope fraud:score] [--ttl 3600] [--sub alice]

The key pair in this folder is for local examples only: anyone can read it, so nothing real may
ever trust it. Needs the `cryptography` package.
"""
import argparse
import base64
import json
import os
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

HERE = os.path.dirname(os.path.abspath(__file__))
ISSUER = "https://id.mlgw.local/"
AUDIENCE = "fraud-api"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(scope="fraud:score", ttl=3600, sub="alice", issuer=ISSUER, audience=AUDIENCE, key_path=None, kid="dev-1"):
    with open(key_path or os.path.join(HERE, "dev-signing-key.pem"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    claims = {"iss": issuer, "aud": audience, "sub": sub, "scope": scope, "iat": now, "exp": now + ttl}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64(signature)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scope", default="fraud:score")
    p.add_argument("--ttl", type=int, default=3600)
    p.add_argument("--sub", default="alice")
    a = p.parse_args()
    print(mint(a.scope, a.ttl, a.sub))
