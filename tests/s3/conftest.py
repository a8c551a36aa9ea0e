"""A real S3-compatible server for the storage tests: moto's server mode in a subprocess (the
`moto[server]` dev dependency), one bucket per test, and Django's default storage pointed at it
exactly as production settings would (django-storages' S3Storage)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail

ACCESS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: Any) -> Iterator[str]:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        skip_or_fail("moto[server] is not installed (pip install -e '.[dev]')")
    port = _free_port()
    log = Path(tmp_path_factory.mktemp("moto")) / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                skip_or_fail(f"moto's S3 server did not start: {log.read_text()[-500:]}")
            time.sleep(0.1)
    yield endpoint
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def s3(settings: Any, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh bucket as the default storage; returns a boto3 client on it (`.bucket` set)."""
    import boto3

    for name, value in ACCESS.items():
        monkeypatch.setenv(name, value)
    bucket = f"studio-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **_keys())
    client.create_bucket(Bucket=bucket)
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "access_key": ACCESS["AWS_ACCESS_KEY_ID"],
                "secret_key": ACCESS["AWS_SECRET_ACCESS_KEY"],
                "region_name": REGION,
                "addressing_style": "path",
                "querystring_auth": False,
                "file_overwrite": False,
            },
        },
    }
    # The shop's storage origin: where the bucket's files are served from.
    settings.STORAGE_PUBLIC_ORIGIN = f"{s3_endpoint}/{bucket}"
    client.bucket = bucket
    return client


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": ACCESS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": ACCESS["AWS_SECRET_ACCESS_KEY"],
    }


def keys_in(client: Any, prefix: str = "") -> list[str]:
    listed = client.list_objects_v2(Bucket=client.bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))
