"""The S3 target (AWS S3, MinIO, R2, SeaweedFS): immutable objects, group configs, CAS pointer.

```
s3://bucket/prefix/objects/ab/ab12….css     immutable (Cache-Control: immutable, 1 year)
s3://bucket/prefix/releases/<id>.json       release manifests, immutable
s3://bucket/prefix/groups/<slug>/config.json  what the portal reads (no-cache), rewritten to
                                             name objects; written only after they exist
s3://bucket/prefix/current.json             the pointer: live release, pending switch, history
s3://bucket/prefix/.pops/lock.json          the lock: created with If-None-Match: *
```

S3 cannot replace many keys at once, so the unit of atomicity is the group: each
config.json is one PUT and only ever names objects already present. The switch is
journaled in the pointer: compare-and-swap `pending: <new>` (If-Match the ETag we
read), write the changed configs, delete the configs of groups the release does not
have, compare-and-swap `release: <new>`. A publisher
killed in between leaves `pending` set; the next publish rewrites every config
and finishes, `rollback` restores the live one, and `status` reports it. ETags are
used only as compare-and-swap versions, never as content hashes: every PUT carries
a SHA-256 checksum the server verifies, and `status` re-hashes what it downloads.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from compiler.publish import faults, layout
from compiler.publish.dist import PlannedFile
from compiler.publish.errors import ConflictError, LockedError, PublishError, UnsafeServerError
from compiler.publish.lock import LockInfo
from compiler.publish.release import Pointer, PointerState, ReleaseManifest
from compiler.publish.store import Payload, StoredObject, TargetURLError, run_parallel

_JSON = "application/json"
_NEVER_AN_ETAG = '"00000000000000000000000000000000"'


class _Precondition(Exception):
    """The server refused a conditional write (412, or 409 for a concurrent one)."""


def _error_code(exc: Exception) -> tuple[str, int]:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


class S3Store:
    """A publish target in an S3 bucket, reached with boto3's default credential chain."""

    workers = 16

    def __init__(self, client: Any, bucket: str, prefix: str, url: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.url = url

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None) -> S3Store:
        parsed = urlparse(url)
        bucket, prefix = parsed.netloc, parsed.path.strip("/")
        if not bucket or parsed.query or parsed.fragment:
            raise TargetURLError(f"S3 target must be s3://bucket[/prefix], got {url!r}")
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise PublishError("S3 targets need boto3: pip install 'pops-groups[s3]'") from None
        custom = (
            endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
        )
        config = Config(
            max_pool_connections=32,
            retries={"mode": "standard"},  # 3 attempts, or AWS_MAX_ATTEMPTS
            connect_timeout=10,
            read_timeout=60,
            s3={"addressing_style": "path"} if custom else {},
        )
        session = boto3.session.Session()
        client = session.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=session.region_name or "us-east-1",
            config=config,
        )
        shown = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        return cls(client, bucket, f"{prefix}/" if prefix else "", shown)

    # -- low level ---------------------------------------------------------------------
    def _call(self, method: str, **kwargs: Any) -> Any:
        """Call boto3, turning its errors into messages a CI log can show (no secrets in them)."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except NoCredentialsError:
            raise PublishError(
                "no AWS credentials found: provide them the usual boto3 way "
                "(environment, shared config or profile, instance or task role)"
            ) from None
        except ClientError as exc:
            code, status = _error_code(exc)
            if status == 412 or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise _Precondition(code) from None
            if status == 409 and method != "delete_objects":
                raise _Precondition(code) from None
            if code in ("NoSuchKey", "404", "NotFound"):
                raise
            if code == "NoSuchBucket":
                raise PublishError(f"bucket {self.bucket!r} does not exist") from None
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise PublishError(f"{self.url}: access denied ({code}) for {method}") from None
            raise PublishError(f"{self.url}: {method} failed: {code or status}") from None
        except BotoCoreError as exc:
            raise PublishError(f"{self.url}: {exc}") from None

    def _put(
        self,
        key: str,
        body: bytes,
        *,
        cache_control: str,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {
            "Key": self.prefix + key,
            "Body": body,
            "CacheControl": cache_control,
            "ContentType": layout.content_type(key),
            "ChecksumSHA256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
        }
        if if_none_match:
            kwargs["IfNoneMatch"] = "*"
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        return str(self._call("put_object", **kwargs)["ETag"])

    def _get(self, key: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        try:
            response = self._call("get_object", Key=self.prefix + key)
        except ClientError:
            return None
        return response["Body"].read(), str(response["ETag"])

    def _list(self, sub: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Prefix": self.prefix + sub, "MaxKeys": 1000}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", **kwargs)
            for item in page.get("Contents", []):
                found[item["Key"][len(self.prefix) :]] = item
            if not page.get("IsTruncated"):
                return found
            token = page["NextContinuationToken"]

    def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self.prefix + k} for k in keys[start : start + 1000]]
            response = self._call("delete_objects", Delete={"Objects": batch, "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise PublishError(
                    f"{self.url}: could not delete {len(errors)} keys "
                    f"(first: {first.get('Key')}: {first.get('Code')})"
                )

    # -- safety ------------------------------------------------------------------------
    def ensure_conditional_writes(self) -> None:
        """Prove on a scratch key that If-None-Match: * and If-Match are enforced, or refuse."""
        probe = f"{layout.STATE_DIR}/probe-{uuid.uuid4().hex}"
        ignored: list[str] = []
        self._put(probe, b"probe\n", cache_control=layout.NO_STORE, if_none_match=True)
        try:
            try:
                self._put(probe, b"again\n", cache_control=layout.NO_STORE, if_none_match=True)
                ignored.append("If-None-Match: * on an existing key")
            except _Precondition:
                pass
            try:
                self._put(probe, b"stale\n", cache_control=layout.NO_STORE, if_match=_NEVER_AN_ETAG)
                ignored.append("If-Match with a wrong ETag")
            except _Precondition:
                pass
        finally:
            self._delete([probe])
        if ignored:
            raise UnsafeServerError(
                f"{self.url}: the server accepted writes it must refuse ({'; '.join(ignored)}). "
                "It does not enforce conditional writes, so the lock and the switch cannot be "
                "made safe: refusing to publish."
            )

    # -- lock --------------------------------------------------------------------------
    def acquire_lock(self, info: LockInfo, *, break_lock: bool) -> LockInfo | None:
        broken: LockInfo | None = None
        for _ in range(3):
            try:
                body = info.to_bytes()
                self._put(layout.LOCK_KEY, body, cache_control=layout.NO_STORE, if_none_match=True)
                return broken
            except _Precondition:
                pass
            current = self._get(layout.LOCK_KEY)
            if current is None:
                continue
            holder = LockInfo.from_bytes(current[0])
            if not break_lock or broken is not None:
                raise LockedError(holder, self.url)
            try:
                self._call("delete_object", Key=self.prefix + layout.LOCK_KEY, IfMatch=current[1])
                broken = holder
            except _Precondition:
                continue
        raise LockedError(self.read_lock(), self.url)

    def release_lock(self, info: LockInfo) -> None:
        current = self._get(layout.LOCK_KEY)
        if current is None or LockInfo.from_bytes(current[0]) != info:
            return
        with contextlib.suppress(_Precondition):
            self._call("delete_object", Key=self.prefix + layout.LOCK_KEY, IfMatch=current[1])

    def read_lock(self) -> LockInfo | None:
        current = self._get(layout.LOCK_KEY)
        return LockInfo.from_bytes(current[0]) if current else None

    # -- objects -----------------------------------------------------------------------
    def list_objects(self) -> dict[str, StoredObject]:
        return {
            key: StoredObject(int(item["Size"]), item["LastModified"])
            for key, item in self._list(f"{layout.OBJECTS}/").items()
            if layout.object_sha256(key) is not None
        }

    def read_object(self, key: str) -> bytes | None:
        got = self._get(key)
        return got[0] if got else None

    def write_object(self, key: str, data: bytes) -> None:
        self._put(key, data, cache_control=layout.IMMUTABLE)
        faults.after_write()

    def delete_objects(self, keys: list[str]) -> None:
        self._delete(keys)

    # -- releases ----------------------------------------------------------------------
    @staticmethod
    def _release_key(release: str) -> str:
        if not release or "/" in release:
            raise PublishError(f"bad release id {release!r}")
        return f"{layout.RELEASES}/{release}.json"

    def list_releases(self) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for key, item in self._list(f"{layout.RELEASES}/").items():
            name = key[len(layout.RELEASES) + 1 :]
            if name.endswith(".json") and "/" not in name:
                found[name[: -len(".json")]] = item["LastModified"]
        return found

    def read_release(self, release: str) -> ReleaseManifest | None:
        got = self._get(self._release_key(release))
        if got is None:
            return None
        try:
            return ReleaseManifest.from_bytes(got[0])
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishError(f"release {release} has a damaged manifest: {exc}") from None

    def write_release(self, manifest: ReleaseManifest) -> None:
        try:
            self._put(
                self._release_key(manifest.release),
                manifest.to_bytes(),
                cache_control=layout.IMMUTABLE,
                if_none_match=True,
            )
        except _Precondition:
            return  # already there: releases are immutable and named by content
        faults.after_write()

    def delete_releases(self, releases: list[str]) -> None:
        self._delete([self._release_key(r) for r in releases])

    # -- pointer -----------------------------------------------------------------------
    def read_pointer(self) -> Pointer:
        got = self._get(layout.S3_POINTER_KEY)
        if got is None:
            return Pointer(PointerState(), None)
        try:
            return Pointer(PointerState.from_json(json.loads(got[0])), got[1])
        except (ValueError, KeyError, TypeError) as exc:
            raise PublishError(f"{self.url}/current.json is damaged: {exc}") from None

    def _cas_pointer(self, state: PointerState, version: str | None) -> str:
        body = (json.dumps(state.to_json(), indent=2) + "\n").encode()
        try:
            etag = self._put(
                layout.S3_POINTER_KEY,
                body,
                cache_control=layout.NO_CACHE,
                if_none_match=version is None,
                if_match=version,
            )
        except _Precondition:
            raise ConflictError(
                f"{self.url}: current.json changed while we worked (was our lock broken?); "
                "nothing more was switched, rerun"
            ) from None
        faults.after_write()
        return etag

    def switch(
        self,
        old: Pointer,
        new: PointerState,
        release: ReleaseManifest,
        previous: ReleaseManifest | None,
        payload: Payload,
        *,
        rewrite_all: bool,
    ) -> None:
        """Journal `pending`, write changed group configs, drop removed ones, swap the pointer."""
        etag = self._cas_pointer(replace(old.state, pending=release.release), old.version)
        fresh = rewrite_all or old.state.pending or previous is None
        before = {} if fresh or previous is None else previous.entries()
        todo = [
            f
            for path, f in release.entries().items()
            if path not in before or before[path].object != f.object
        ]

        self._put_entries(todo, payload)
        wanted = release.entries()
        stale = [k for k in self._entry_keys() if k not in wanted]
        if stale:  # groups the release does not have stop being served with the switch
            self._delete(stale)
            faults.after_write()
        self._cas_pointer(new, etag)

    def write_state(self, old: Pointer, new: PointerState) -> None:
        self._cas_pointer(new, old.version)

    def _put_entries(self, todo: list[PlannedFile], payload: Payload) -> None:
        """PUT group configs, each only after its bytes are checked against the object name."""

        def put_entry(f: PlannedFile) -> None:
            data = payload(f.object)
            if hashlib.sha256(data).hexdigest() != f.object_sha256:
                raise PublishError(f"object {f.object} does not hash to its name; run status")
            self._put(f.path, data, cache_control=layout.NO_CACHE)
            faults.after_write()

        run_parallel(put_entry, todo, self.workers)

    # -- what readers see --------------------------------------------------------------
    def served_paths(self, release: ReleaseManifest) -> list[str]:
        return sorted(release.entries())

    def _entry_keys(self) -> list[str]:
        return [k for k in self._list(f"{layout.GROUPS}/") if layout.is_entry(k)]

    def read_served(self) -> dict[str, bytes]:
        keys = self._entry_keys()
        bodies = run_parallel(self.read_object, keys, self.workers)
        return {k: b for k, b in zip(keys, bodies, strict=True) if b is not None}

    def write_served(
        self, release: ReleaseManifest, paths: list[str], payload: Payload
    ) -> list[str]:
        """Rewrite group configs of the live release (repair): each PUT only after its object
        is verified; the pointer is not touched."""
        entries = release.entries()
        self._put_entries([entries[p] for p in paths if p in entries], payload)
        return [p for p in paths if p not in entries]

    def stale_served(self, release: ReleaseManifest) -> list[str]:
        wanted = release.entries()
        return [k for k in self._entry_keys() if k not in wanted]

    def delete_served(self, paths: list[str]) -> None:
        self._delete(paths)

    def delete_leftovers(self, older_than: datetime) -> list[str]:
        """Probe keys of publishers killed during the conditional-write check."""
        gone = [
            key
            for key, item in self._list(f"{layout.STATE_DIR}/probe-").items()
            if item["LastModified"] <= older_than
        ]
        if gone:
            self._delete(gone)
        return gone
