"""Run in a child process with the production profile: fetch a few pages through Django's test client
(paths from the command line; the full middleware stack, the production settings) and print what a test needs to know, as JSON."""

import json
import sys

import django

django.setup()

from django.test import Client  # noqa: E402

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}  # the proxy's header (production redirects plain HTTP)
client = Client()
out = {}
for path in sys.argv[1:]:
    response = client.get(path, **HTTPS)
    out[path] = {"status": response.status_code, "csp": response.get("Content-Security-Policy", ""),
                 "body": response.content.decode("utf-8", "replace")}
print(json.dumps(out))
