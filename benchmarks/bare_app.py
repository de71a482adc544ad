"""The baseline for ``benchmarks/webhooks.py``: one Flask view answering fixed TwiML.

Served by the same gunicorn settings as the hotline (``gunicorn bare_app:app`` from this
directory). It accepts any path so the benchmark can replay the hotline's exact requests;
it neither parses the form nor checks the signature header.
"""

from __future__ import annotations

from flask import Flask, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Say language="cmn-CN" voice="Polly.Zhiyu">您好，欢迎致电8718服务热线。</Say>'
    "</Response>"
)

app = Flask(__name__)


@app.post("/", defaults={"_path": ""})
@app.post("/<path:_path>")
def twiml(_path: str) -> Response:
    """Return the same TwiML for every POST."""
    return Response(TWIML, mimetype="text/xml")
