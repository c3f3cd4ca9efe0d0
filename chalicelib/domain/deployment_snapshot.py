"""What a device gets for a distribution set, frozen at assignment time (docs/architecture.md, "Hot path").

A distribution set is locked once assigned, so the snapshot stored on the action never goes stale.
Each chunk is exactly:
    {"part": <module type key>, "version": str, "name": str, "smId": int, "encrypted": bool,
     "metadata": [{"key", "value"}]  (target-visible module metadata only),
     "artifacts": [{"filename", "size", "hashes": {"md5", "sha1", "sha256"}, "s3Key", "artifactId"}]}
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DeploymentSnapshot:
    ds_id: int
    name: str
    version: str
    type_key: str
    required_migration_step: bool
    chunks: list[dict] = field(default_factory=list)
