"""Shared fixtures: fake AWS credentials first, so no test can ever reach a real account."""

from __future__ import annotations

import pytest

TEST_REGION = "us-east-1"
# Dummy credentials: real ones from the environment are never used.
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                    "AWS_DEFAULT_REGION": TEST_REGION,
                    "AWS_EC2_METADATA_DISABLED": "true"}  # never ask the instance metadata service


def use_test_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """TEST_CREDENTIALS in the environment, and no profile."""
    for key, value in TEST_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for every test."""
    use_test_credentials(monkeypatch)
