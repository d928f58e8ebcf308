"""Licence identifiers per GB/T 36904 (电子证照标识).

    1.2.156.3005.2.<licence type code 21>.<issuer USCC 18>.<serial>.<version 3>.<check 1>

The check character is ISO 7064 MOD 37,36 (python-stdnum `iso7064.mod_37_36`) over the four middle
segments concatenated without dots: type code + issuer USCC + serial + version. The serial is a
decimal number, zero-padded to `SERIAL_WIDTH` digits, allocated per (licence type, issuer); the
version starts at 001 and grows with every change of the licence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from stdnum.iso7064 import mod_37_36

PREFIX = "1.2.156.3005.2"
SERIAL_WIDTH = 8
MAX_SERIAL = 10**SERIAL_WIDTH - 1
MAX_VERSION = 999

_IDENTIFIER_RE = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{21})\.(?P<issuer>[0-9A-Z]{18})\."
    rf"(?P<serial>\d{{{SERIAL_WIDTH}}})\.(?P<version>\d{{3}})\.(?P<check>[0-9A-Z*])$"
)


@dataclass(frozen=True)
class LicenceIdentifier:
    type_code: str
    issuer_uscc: str
    serial: int
    version: int

    @property
    def body(self) -> str:
        """The four middle segments concatenated without dots (the input of the check character)."""
        return f"{self.type_code}{self.issuer_uscc}{self.serial:0{SERIAL_WIDTH}d}{self.version:03d}"

    @property
    def check(self) -> str:
        return mod_37_36.calc_check_digit(self.body)

    def __str__(self) -> str:
        return (f"{PREFIX}.{self.type_code}.{self.issuer_uscc}.{self.serial:0{SERIAL_WIDTH}d}."
                f"{self.version:03d}.{self.check}")


def build_identifier(*, type_code: str, issuer_uscc: str, serial: int, version: int) -> str:
    if len(type_code) != 21 or len(issuer_uscc) != 18:
        raise ValueError("licence type code must be 21 characters and issuer USCC 18")
    if not 0 < serial <= MAX_SERIAL:
        raise ValueError(f"serial {serial} out of range 1..{MAX_SERIAL}")
    if not 0 < version <= MAX_VERSION:
        raise ValueError(f"version {version} out of range 1..{MAX_VERSION}")
    return str(LicenceIdentifier(type_code.upper(), issuer_uscc.upper(), serial, version))


@lru_cache(maxsize=65536)
def parse_identifier(value: str) -> LicenceIdentifier | None:
    """The parts of a well-formed identifier whose check character is right, else None (cached:
    a pure function of the string)."""
    match = _IDENTIFIER_RE.match(value or "")
    if not match:
        return None
    ident = LicenceIdentifier(match["type"], match["issuer"], int(match["serial"]), int(match["version"]))
    if not mod_37_36.is_valid(ident.body + match["check"]):
        return None
    return ident
