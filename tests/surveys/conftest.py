"""Fixtures shared by the surveys tests."""

import pytest
from django.core.cache import cache


@pytest.fixture
def fresh_rate_limits():
    """The public forms' rate limits and tickets live in the cache: each test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()
