"""Clients share the service models botocore parsed, never the credentials."""

from __future__ import annotations

import pytest

from bedrock_ext.aws.client import AwsSettings

SETTINGS = AwsSettings(endpoint_url="http://127.0.0.1:9", region="eu-west-1")


def test_clients_share_one_loader_whose_search_paths_do_not_grow() -> None:
    first, second = SETTINGS.client("s3"), SETTINGS.client("bedrock")
    loader = first._loader  # botocore's data loader of the session that made the client
    paths = list(loader.search_paths)
    for _ in range(5):
        SETTINGS.client("s3")
    assert second._loader is loader and loader.search_paths == paths
    assert hasattr(first, "upload_file")  # boto3's S3 transfer methods are still injected
    assert first.meta.region_name == "eu-west-1" and second.meta.endpoint_url == "http://127.0.0.1:9"


def test_each_client_reads_the_credential_chain_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFIRST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "first-secret")
    assert SETTINGS.client("s3")._request_signer._credentials.access_key == "AKIDFIRST"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSECOND")
    assert SETTINGS.client("s3")._request_signer._credentials.access_key == "AKIDSECOND"
