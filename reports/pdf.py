"""Office documents to PDF with LibreOffice (headless), fonts mapped to what is installed.

The bulletin (.docx) names the fonts a government office uses (方正小标宋简体, 仿宋_GB2312,
黑体, 楷体_GB2312, see :mod:`reports.bulletin`); a Linux server has none of them. The
converter runs LibreOffice with ``reports/fonts.conf``, a fontconfig file that keeps the
system's configuration and maps each of those names to free fonts Debian packages
(fonts-noto-cjk, fonts-arphic-ukai, fonts-wqy-microhei), so the PDF shows Chinese text in
the right kind of face instead of empty boxes.

Each conversion has its own temporary LibreOffice profile and directory (removed at the
end), so conversions in several processes do not share a lock, and a time limit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FONTS_CONF = Path(__file__).with_name("fonts.conf")
TIMEOUT_SECONDS = 120
NOT_INSTALLED = "服务器未安装 LibreOffice，无法生成 PDF（apt-get install libreoffice-writer-nogui）"


class PdfError(Exception):
    """The conversion could not run or failed (message in Chinese for users)."""


def soffice() -> str | None:
    """The LibreOffice binary on ``PATH``, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(data: bytes, suffix: str, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """Convert an office document (``suffix``: ``.docx`` or ``.xlsx``) to PDF bytes."""
    binary = soffice()
    if binary is None:
        raise PdfError(NOT_INSTALLED)
    with tempfile.TemporaryDirectory(prefix="hotline-pdf-") as tmp:
        work = Path(tmp)
        source = work / f"document{suffix}"
        source.write_bytes(data)
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "HOME": str(work),
               "TMPDIR": str(work),
               "SAL_USE_VCLPLUGIN": "svp"}
        try:
            result = subprocess.run(
                [binary, "--headless", "--norestore", "--nologo", "--nolockcheck",
                 f"-env:UserInstallation={(work / 'profile').as_uri()}",
                 "--convert-to", "pdf", "--outdir", str(work), str(source)],
                capture_output=True, timeout=timeout, env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError("生成 PDF 超时") from exc
        target = work / "document.pdf"
        if result.returncode != 0 or not target.exists():
            detail = (result.stderr or result.stdout).decode(errors="replace").strip()[-300:]
            raise PdfError(f"生成 PDF 失败：{detail or result.returncode}")
        return target.read_bytes()
