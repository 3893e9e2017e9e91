"""The `X-TFC-Task-Signature` header: HMAC-SHA512 of the raw request body.

HCP Terraform signs each run task request with the HMAC key entered when the
run task was created, and sends the hex digest in this header
(https://developer.hashicorp.com/terraform/cloud-docs/integrations/run-tasks#securing-your-run-task).
The server always has a key and accepts nothing unsigned: a request without
the header, or with any other digest, is refused before its body is parsed.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-TFC-Task-Signature"


def sign(body: bytes, key: bytes) -> str:
    """The hex HMAC-SHA512 of `body` under `key`, as HCP Terraform sends it."""
    return hmac.new(key, body, hashlib.sha512).hexdigest()


def verify(body: bytes, header: str | None, key: bytes) -> bool:
    """Whether `header` is the signature of `body` under `key`, compared in
    constant time (hmac.compare_digest) so timing tells nothing about the digest."""
    if not header or not key:
        return False
    try:
        given = header.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sign(body, key).encode("ascii"), given)
