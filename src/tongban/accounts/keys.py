"""The OpenID Connect signing key (RS256), read by settings before Django starts (no model imports).

Production passes the PEM in TONGBAN_OIDC_KEY (start-up fails with a clear message without it: a key
generated on one host would differ from the next host's, and would change whenever var/ is lost,
breaking every relying party's cached JWKS). Otherwise a 2048-bit RSA key is generated once into
<var dir>/oidc-rs256.pem (mode 0600) and reused; concurrent first starts agree on one file because
the key is written to a temporary file and linked into place, the loser reading the winner's key.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class MissingOIDCKey(RuntimeError):
    pass


def load_or_create_oidc_key(var_dir: Path, env_value: str | None = None, *, production: bool = False) -> str:
    if env_value and env_value.strip():
        pem = env_value.strip().replace("\\n", "\n") + "\n"
        if "PRIVATE KEY-----" not in pem:
            raise MissingOIDCKey("TONGBAN_OIDC_KEY must hold a PEM RSA private key (-----BEGIN PRIVATE KEY----- ...)")
        return pem
    if production:
        raise MissingOIDCKey(
            "TONGBAN_OIDC_KEY must be set in production (TONGBAN_PROFILE=production): the PEM of the RSA key "
            "that signs OpenID Connect ID tokens, the same on every host (see docs/deploy.md)")
    path = Path(var_dir) / "oidc-rs256.pem"
    if path.exists():
        return path.read_text()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".oidc-", suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
        os.chmod(tmp, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_text()
