"""Reads of the licence library, and the access checks every holder-facing read goes through."""

from __future__ import annotations

import json

from .models import Licence


def licence_document(licence: Licence) -> dict:
    """The signed licence document: the stored canonical payload and its proof."""
    return {"payload": json.loads(licence.payload),
            "proof": {"alg": licence.signing_key.algorithm, "kid": licence.signing_key.key_id,
                      "value": licence.signature}}
