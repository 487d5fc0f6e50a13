import pytest


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded documents land in a per-test directory, not in the developer's .data/."""
    settings.MEDIA_ROOT = tmp_path / "media"
