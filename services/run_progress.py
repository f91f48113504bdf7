"""How far a running submission has got: the cases with an output out of the test set's, as
the inference job keeps them in its RQ meta while it runs (workers/jobs.py ``progress``).

Only a deployment with Redis has a running job to ask; the embedded queue runs a job inside
the dispatcher, where nobody can watch, so there the answer is "not known" (None). A status
page shows the recorded status either way; this only adds the count.
"""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import UUID

from ledger.settings import Settings


def cases_done(settings: Settings, submission_id: UUID) -> dict[str, int] | None:
    """``{"done": n, "total": m}`` of the submission's inference job, or None when unknown."""
    if not settings.redis_url:
        return None
    from redis import Redis
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from workers.queues import job_id_for

    with contextlib.suppress(RedisError, NoSuchJobError, ValueError):
        connection = Redis.from_url(settings.redis_url, socket_timeout=1)
        meta: dict[str, Any] = Job.fetch(
            job_id_for("inference", str(submission_id)), connection=connection
        ).get_meta()
        progress = meta.get("progress")
        if isinstance(progress, dict) and {"done", "total"} <= set(progress):
            return {"done": int(progress["done"]), "total": int(progress["total"])}
    return None
