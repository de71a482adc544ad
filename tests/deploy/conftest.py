"""The deploy tests reuse the speech fixtures of the transcription tests."""

from tests.transcription.conftest import ko_model_dir, word  # noqa: F401
