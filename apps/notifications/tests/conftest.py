import pytest

from apps.notifications import channels
from apps.notifications.channels.basic import Memory


@pytest.fixture(autouse=True)
def _fresh_channels():
    """Test backends keep what they sent in memory; backends are cached per process."""
    Memory.outbox.clear()
    channels.backend.cache_clear()
    yield
    channels.backend.cache_clear()


@pytest.fixture
def sms_outbox() -> list:
    return Memory.outbox
