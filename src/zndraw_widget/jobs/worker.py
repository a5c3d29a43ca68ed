"""The Celery side: the app (Redis as broker, its keys under the deployment's prefix), its one
task, and what ``zndraw-widget worker`` runs. A worker runs one job at a time (the ``solo``
pool, so that it may have parse processes of its own); run several workers to run jobs
side by side."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..settings import Settings

TASK = "zndraw_widget.import_file"


def broker_url(redis_url: str) -> str:
    """``redis_url`` as Celery's broker reads it (a unix socket is ``redis+socket://``)."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url


def celery_app(settings: Settings) -> Any:
    """The Celery app of ``settings``' deployment, its task bound to them."""
    from celery import Celery

    app = Celery("zndraw_widget", broker=broker_url(settings.redis_url),
                 set_as_current=False)
    app.conf.update(
        broker_transport_options={"global_keyprefix": settings.redis_prefix},  # zdw:celery...
        task_ignore_result=True,
        task_acks_late=False,  # a job is not run twice: a worker lost mid-job fails it
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    pool: list[ProcessPoolExecutor] = []

    def parse_pool() -> ProcessPoolExecutor:
        if not pool:
            from .engines import parse_pool as make

            pool.append(make(settings.import_processes))
        return pool[0]

    @app.task(name=TASK)
    def import_file(job_id: str) -> None:
        asyncio.run(_work(settings, job_id, parse_pool))

    return app


async def _work(settings: Settings, job_id: str, pool: Any) -> None:
    from ..runtime import open_service
    from .engines import parser_for
    from .registry import RedisJobs
    from .runner import Board, run_import

    registry = RedisJobs(settings.redis_url, settings.redis_prefix)
    service = open_service(settings)
    try:
        job = await registry.get(job_id)
        if job is None:  # expired
            return
        await run_import(job, service, Board(registry, lambda: service.store),
                         parser_for(pool, job), settings.import_processes + 1,
                         settings.job_ttl)
    finally:
        await service.store.close()
        await registry.close()


def run_worker(settings: Settings) -> None:
    """Run a Celery worker for ``settings``' deployment until stopped (SIGTERM: it finishes
    its job first)."""
    app = celery_app(settings)
    app.worker_main(["worker", "--pool=solo", "--loglevel=INFO", "--without-gossip",
                     "--without-mingle", f"--hostname=zndraw-{os.getpid()}@%h"])
