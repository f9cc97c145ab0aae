"""Shared by the restart tests: a service run as a real, restartable process, and offset helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from crm_cli.stack import free_port, topic_partitions


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout:.0f}s: {what}")
        time.sleep(0.05)


class ServiceProcess:
    """``python -m <module>`` as a subprocess on a fixed database, restartable."""

    def __init__(self, module: str, *, env: dict[str, str], log_path: Path) -> None:
        self.module = module
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    def start(self) -> None:
        """Start a new process (a fresh HTTP port each time) and wait until /health is ok."""
        port = self.port = free_port()
        env = {**self.env, "CRM_HTTP_PORT": str(port)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.starts += 1
        process = self.process

        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"{self.module} exited with {process.returncode}:\n{self.log_tail()}")
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=60, what=f"{self.module} healthy")

    def health(self) -> dict[str, object]:
        """The running process's /health body."""
        body: dict[str, object] = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=5).json()
        return body

    def kill(self) -> None:
        """SIGKILL: no graceful stop, no final commit, no relay drain."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self) -> str:
        """The last lines of the service log."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])


def high_watermarks(broker: str, topic: str) -> dict[int, int]:
    """Partition → end offset of ``topic`` now."""
    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"w-{uuid.uuid4()}"})
    try:
        partitions = topic_partitions(consumer, topic)
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    finally:
        consumer.close()


END_MARKER_KEY = b"test-end-marker"
"""The key of the records :func:`append_end_markers` writes (readers skip them)."""


def append_end_markers(broker: str, topic: str) -> dict[int, int]:
    """Append one marker record to each partition of ``topic``; returns partition → the marker's offset.

    A reader that reads up to its own marker does not rely on the end offset the broker reports,
    which Tansu gives as the last batch's *first* offset + 1.
    """
    producer = Producer({"bootstrap.servers": broker, "acks": "all"})
    offsets: dict[int, int] = {}

    def delivered(error: KafkaError | None, message: Message) -> None:
        assert error is None, f"end marker not written: {error}"
        offsets[message.partition() or 0] = message.offset() or 0

    consumer = Consumer({"bootstrap.servers": broker, "group.id": f"m-{uuid.uuid4()}"})
    try:
        partitions = topic_partitions(consumer, topic)
    finally:
        consumer.close()
    for partition in range(partitions):
        producer.produce(topic, key=END_MARKER_KEY, value=b"", partition=partition, on_delivery=delivered)
    assert producer.flush(30) == 0 and len(offsets) == partitions, "end markers not acknowledged"
    return offsets


def start_group_at(broker: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Commit ``offsets`` for ``group`` on ``topic``, so its first member starts there."""
    consumer = Consumer({"bootstrap.servers": broker, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)
    finally:
        consumer.close()
