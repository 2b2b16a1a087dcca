"""A target URL -> the store behind it: `file://` (a folder) or `s3://` (a bucket).

Apart from store.py, which both stores build on, so neither imports the other back.
"""

from __future__ import annotations

from compiler.publish.local import LocalStore
from compiler.publish.s3 import S3Store
from compiler.publish.store import Store, TargetURLError


def open_store(target: str, *, endpoint_url: str | None = None) -> Store:
    """`file:///abs/dir` or `s3://bucket/prefix` -> a Store; anything else is a usage error."""
    if target.startswith("file://"):
        if endpoint_url:
            raise TargetURLError("--endpoint-url only applies to s3:// targets, not file://")
        return LocalStore.from_url(target)
    if target.startswith("s3://"):
        return S3Store.from_url(target, endpoint_url=endpoint_url)
    raise TargetURLError(f"unsupported target {target!r}: use file:///path or s3://bucket/prefix")
