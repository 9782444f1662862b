"""Which build of Hala Flow this worker is, for Temporal's Worker Deployments (the Python side of
platform/worker-build.ts): HALA_BUILD_ID (`<code version>+<commit>`, set in every image by
scripts/build-images.sh) and HALA_DEPLOYMENT_NAME (default `hala`). A pinned campaign's GPU activities
reach only workers of the version it started on, so every pool of a build joins the same version
as the CPU worker that runs the campaign. Unset: an unversioned worker, as on a laptop."""
from __future__ import annotations

import os

from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import WorkerDeploymentConfig

DEFAULT_DEPLOYMENT_NAME = "hala"


def deployment_config(env=os.environ) -> WorkerDeploymentConfig | None:
    build_id = env.get("HALA_BUILD_ID", "").strip()
    if not build_id:
        return None
    name = env.get("HALA_DEPLOYMENT_NAME", "").strip() or DEFAULT_DEPLOYMENT_NAME
    # Activities only: no workflow here, so no versioning behaviour to declare.
    return WorkerDeploymentConfig(version=WorkerDeploymentVersion(deployment_name=name, build_id=build_id),
                                  use_worker_versioning=True)
