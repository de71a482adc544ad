"""What ``make run`` prints once everything is up: where to go, how to try a call.

The README's "Two commands" section shows the same URLs (a test compares them).
"""

from __future__ import annotations


def banner(port: int | str, public_base_url: str, logins: str, model: str = "") -> str:
    """The start-up banner; ``logins`` is the demo-login block (may be empty), ``model`` the
    speech model's state (已安装 / 下载中 n% / 不可用：原因)."""
    local = f"http://127.0.0.1:{port}"
    base = public_base_url.rstrip("/")
    return (
        "\n8718 热线已启动 / hotline running\n"
        f"  console   {local}/  (sign in at {local}/console/login)\n"
        f"  webhooks  {base}/ivr/voice  (status: {base}/ivr/status,"
        f" fallback: {base}/ivr/fallback)\n"
        f"  health    {local}/healthz\n"
        + (f"  语音模型  {model}  (flask --app app model status)\n" if model else "")
        + f"{logins}"
        f"  try a call:  .venv/bin/flask --app app call --url {local} --digits 2\n"
        "  A child that stops is restarted; Ctrl-C stops everything.\n"
    )
