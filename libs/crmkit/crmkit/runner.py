"""Run one service process: its consumers, its outbox relay and its HTTP API on one event loop.

SIGTERM/SIGINT stop it gracefully: consumers finish and commit the batch in hand, the
relay drains the outbox, then the HTTP server exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

import uvicorn
from crm_contracts import Registry, load_registry
from fastapi import FastAPI

from crmkit.checkpoint import WalCheckpointer, sqlite_file
from crmkit.consumer import ConsumerRuntime
from crmkit.db import Database
from crmkit.handlers import Subscription
from crmkit.http import add_ops_routes
from crmkit.outbox import OutboxRelay
from crmkit.pii import RedactPhones
from crmkit.settings import ServiceSettings

log = logging.getLogger(__name__)
BackgroundTask = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the service runner owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def configure_logging(level: str) -> None:
    """Plain structured-ish logs with phone numbers masked."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactPhones())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


class ServiceProcess:
    """Everything one service runs, wired together."""

    def __init__(
        self,
        *,
        settings: ServiceSettings,
        db: Database,
        app: FastAPI,
        subscriptions: Sequence[Subscription],
        background: Sequence[BackgroundTask] = (),
        registry: Registry | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.app = app
        self.registry = registry or load_registry()
        self.relay = (
            OutboxRelay(
                engine=db.engine,
                table=db.tables.outbox,
                bootstrap=settings.kafka_bootstrap,
                service=settings.service_name,
                min_interval_s=settings.outbox_publish_interval_ms / 1000,
            )
            if settings.outbox_relay == "embedded"
            else None
        )
        publish = self.relay.publish_now if self.relay else None
        self.consumers = [
            ConsumerRuntime(
                settings=settings,
                db=db,
                registry=self.registry,
                subscription=s,
                on_commit=(lambda _n: publish()) if publish else None,
            )
            for s in subscriptions
        ]
        database_file = sqlite_file(db.url)
        self.checkpointer = WalCheckpointer(database_file) if database_file else None
        self._background = [*background, *([self.checkpointer.run] if self.checkpointer else [])]
        self._stop = asyncio.Event()
        add_ops_routes(app, service=settings.service_name, health=self.health)

    def health(self) -> list[dict[str, Any]]:
        """Every component's progress for /health."""
        parts = [c.health() for c in self.consumers]
        if self.relay is not None:
            parts.append({"component": "outbox-relay", "ok": True, "published": self.relay.published})
        if self.checkpointer is not None:
            parts.append({"component": "wal-checkpointer", "ok": True, "checkpoints": self.checkpointer.checkpoints})
        return parts

    def wake_relay(self) -> None:
        """Called by REST handlers after they commit outbox rows."""
        if self.relay is not None:
            self.relay.wake()

    def request_stop(self) -> None:
        """Begin a graceful stop."""
        log.info("stopping %s", self.settings.service_name)
        self._stop.set()

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT, then stop in order: consumers, relay, HTTP."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        await asyncio.to_thread(self.db.create_all)
        server = _Server(
            uvicorn.Config(
                self.app,
                host=self.settings.http_host,
                port=self.settings.http_port,
                log_level="warning",
                lifespan="off",
            )
        )
        http_task = asyncio.create_task(server.serve(), name="http")
        consumer_tasks = [asyncio.create_task(c.run(), name=f"consumer-{i}") for i, c in enumerate(self.consumers)]
        relay_task = asyncio.create_task(self.relay.run(), name="relay") if self.relay else None
        extra = [asyncio.create_task(task(self._stop), name="background") for task in self._background]
        log.info("%s serving on %s:%s", self.settings.service_name, self.settings.http_host, self.settings.http_port)
        watched = [http_task, *consumer_tasks, *extra] + ([relay_task] if relay_task else [])
        stop_wait = asyncio.create_task(self._stop.wait())
        done, _ = await asyncio.wait([stop_wait, *watched], return_when=asyncio.FIRST_COMPLETED)
        crashed = [t for t in done if t is not stop_wait and t.exception() is not None]
        for task in crashed:
            log.error("component %s crashed: %r", task.get_name(), task.exception())
        self._stop.set()
        for consumer in self.consumers:
            consumer.stop()
        await asyncio.gather(*consumer_tasks, *extra, return_exceptions=True)
        if self.relay and relay_task:
            self.relay.stop()
            await asyncio.gather(relay_task, return_exceptions=True)
        server.should_exit = True
        await asyncio.gather(http_task, return_exceptions=True)
        await asyncio.to_thread(self.db.dispose)
        if crashed:
            raise SystemExit(1)


def tune_interpreter(settings: ServiceSettings) -> None:
    """A service's GIL switch interval and garbage-collector thresholds; what exists now is frozen."""
    sys.setswitchinterval(settings.gil_switch_interval_s)
    gc.freeze()  # what start-up built (rules, registry, metadata) is never scanned again
    gc.set_threshold(settings.gc_gen0_threshold, 50, 100)


def run(process_factory: Callable[[], ServiceProcess]) -> None:
    """Entry point for ``python -m <service>``: build the process inside the loop and serve."""

    async def main() -> None:
        process = process_factory()
        configure_logging(process.settings.log_level)
        tune_interpreter(process.settings)
        await process.serve()

    asyncio.run(main())
