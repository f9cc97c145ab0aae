"""The ``crm`` command: run the embedded stack, produce and read events, run the demo."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from confluent_kafka import Consumer, Message, Producer, TopicPartition
from crm_contracts import Registry, load_registry
from crmkit.cloudevents import JSON, decode, encode_headers, new_event_id
from crmkit.errors import PoisonMessage
from google.protobuf import json_format
from rich.console import Console
from rich.table import Table

from crm_cli import dedupe, importer, route, score
from crm_cli.demo import run_demo
from crm_cli.stack import Stack, StackError, start_stack, topic_partitions

app = typer.Typer(help="CRM backbone: embedded stack, topics, demo.", no_args_is_help=True, add_completion=False)
app.add_typer(route.app, name="route")
app.add_typer(score.app, name="score")
app.command("dedupe")(dedupe.dedupe)
app.command("import")(importer.import_file)
console = Console(stderr=True)
VarOption = Annotated[Path, typer.Option("--var", help="Where databases, logs and the stack state live.")]


@app.command()
def up(
    var: VarOption = Path("var"),
    broker_port: Annotated[int, typer.Option(help="Kafka-protocol port of the embedded broker.")] = 9092,
    base_port: Annotated[int, typer.Option(help="HTTP port of the first service; the others follow.")] = 8001,
    detach: Annotated[bool, typer.Option(help="Start and return instead of waiting for Ctrl-C.")] = False,
) -> None:
    """Start the broker, create the topics, start every service; Ctrl-C or `crm down` stops them."""
    if Stack.load(var) is not None:
        console.print(f"a stack is already running from {var}; `crm down` first")
        raise typer.Exit(1)
    try:
        stack = start_stack(var=var, broker_port=broker_port, base_port=base_port)
    except StackError as exc:
        console.print(f"[red]could not start the stack:[/red] {exc}")
        raise typer.Exit(1) from None
    _print_status(stack)
    if detach:
        return
    console.print("running; Ctrl-C stops everything")
    stopping = False

    def _stop(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not stopping:
        time.sleep(0.2)
    console.print("stopping services, then the broker …")
    stack.stop()


@app.command()
def down(var: VarOption = Path("var")) -> None:
    """Stop a stack started with `crm up --detach` (services first, broker last)."""
    stack = Stack.load(var)
    if stack is None:
        console.print(f"no running stack in {var}")
        return
    stack.stop()
    console.print("stopped")


@app.command()
def status(var: VarOption = Path("var")) -> None:
    """Each service's health: consumer state, lag, age of the last commit."""
    stack = Stack.load(var)
    if stack is None:
        console.print(f"no running stack in {var}")
        raise typer.Exit(1)
    _print_status(stack)


def _print_status(stack: Stack) -> None:
    table = Table("service", "url", "ok", "lag", "last commit (s ago)", "handled", "dead-lettered")
    for name in stack.ports:
        try:
            health = httpx.get(f"{stack.url(name)}/health", timeout=3).json()
        except httpx.HTTPError as exc:
            table.add_row(name, stack.url(name), f"[red]{exc}[/red]", "", "", "", "")
            continue
        consumer: dict[str, object] = next((c for c in health["components"] if "group" in c), {})
        table.add_row(
            name,
            stack.url(name),
            "yes" if health["ok"] else "[red]no[/red]",
            str(consumer.get("lag")),
            str(consumer.get("last_commit_age_s")),
            str(consumer.get("handled")),
            str(consumer.get("dead_lettered")),
        )
    console.print(f"broker: {stack.bootstrap}")
    console.print(table)


@app.command()
def produce(
    topic: str,
    event_type: Annotated[str, typer.Option("--type", help="CloudEvents type, e.g. crm.form.lead_submitted.")],
    file: Annotated[Path, typer.Argument(help="JSON file (one object, or JSON lines); - for stdin.")] = Path("-"),
    key: Annotated[str, typer.Option(help="Message key (never a plaintext phone).")] = "",
    source: Annotated[str, typer.Option(help="CloudEvents source.")] = "/crm-cli",
    bootstrap: Annotated[str, typer.Option(envvar="CRM_KAFKA_BOOTSTRAP")] = "127.0.0.1:9092",
) -> None:
    """Produce JSON payloads as CloudEvents (binary mode, application/json) after checking them against the schema."""
    registry = load_registry()
    spec = registry.event(topic, event_type)
    if spec is None:
        known = ", ".join(sorted(registry.topic(topic).events))
        console.print(f"[red]{event_type!r} is not a type of {topic}[/red]; known: {known}")
        raise typer.Exit(2)
    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    stripped = text.strip()
    payloads = (
        [stripped]
        if stripped.startswith("{") and "\n{" not in stripped
        else [ln for ln in stripped.splitlines() if ln.strip()]
    )
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": False})
    for number, payload in enumerate(payloads, 1):
        try:
            json_format.Parse(payload, spec.message_class())
        except json_format.ParseError as exc:
            console.print(f"[red]payload {number} is not a valid {spec.schema}:[/red] {exc}")
            raise typer.Exit(2) from None
        event_id = new_event_id()
        headers: list[tuple[str, str | bytes | None]] = [
            *encode_headers(event_id=event_id, source=source, event_type=event_type, content_type=JSON)
        ]
        producer.produce(topic, key=key.encode() or None, value=payload.encode(), headers=headers)
        print(json.dumps({"topic": topic, "ce_id": event_id, "type": event_type}))
    if producer.flush(15):
        console.print("[red]not every message was acknowledged[/red]")
        raise typer.Exit(1)


@app.command()
def tail(
    topic: str,
    from_beginning: Annotated[bool, typer.Option(help="Start at the earliest offset.")] = False,
    limit: Annotated[int, typer.Option(help="Stop after this many messages (0 = follow).")] = 0,
    idle_timeout: Annotated[float, typer.Option(help="Stop after this many idle seconds (0 = never).")] = 0.0,
    bootstrap: Annotated[str, typer.Option(envvar="CRM_KAFKA_BOOTSTRAP")] = "127.0.0.1:9092",
) -> None:
    """Print a topic's events as JSON lines (headers decoded, protobuf shown as proto3 JSON)."""
    registry = load_registry()
    base = topic.removesuffix(".dlq")
    registry.topic(base)  # an unknown topic fails here, as before
    consumer: Consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"crm-tail-{time.time_ns()}", "enable.auto.commit": False}
    )
    partitions = topic_partitions(consumer, topic)  # the embedded broker's count may differ from the registry's
    assignment = []
    for p in range(partitions):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        assignment.append(TopicPartition(topic, p, low if from_beginning else high))
    consumer.assign(assignment)
    shown, idle_since = 0, time.monotonic()
    try:
        while not limit or shown < limit:
            message = consumer.poll(0.2)
            if message is None or message.error():
                if idle_timeout and time.monotonic() - idle_since > idle_timeout:
                    break
                continue
            idle_since = time.monotonic()
            print(json.dumps(_render(registry, base, message), ensure_ascii=False), flush=True)
            shown += 1
    finally:
        consumer.close()


def _render(registry: Registry, topic: str, message: Message) -> dict[str, object]:
    raw_headers = message.headers() or []
    pairs = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
    headers = [(k, v if isinstance(v, bytes) else str(v or "").encode()) for k, v in pairs]
    out: dict[str, object] = {
        "partition": message.partition(),
        "offset": message.offset(),
        "key": (message.key() or b"").decode(errors="replace") if isinstance(message.key(), bytes) else message.key(),
        "headers": {k: v.decode(errors="replace") for k, v in headers},
    }
    value = message.value()
    try:
        event = decode(
            registry=registry, topic=topic, value=value if isinstance(value, bytes) else None, headers=headers
        )
        out["data"] = json_format.MessageToDict(event.data)
    except PoisonMessage as exc:
        out["error"] = exc.reason
    return out


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="Touchpoints to produce.")] = 3000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
    var: VarOption = Path("var"),
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the pipeline to drain.")] = 180.0,
) -> None:
    """Start the stack (or use a running one), push synthetic touchpoints through it, account for each."""
    try:
        summary = run_demo(count=count, var=var, quiet=as_json or not sys.stderr.isatty(), timeout=timeout)
    except StackError as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary)
    raise typer.Exit(0 if summary["ok"] else 1)


def _print_summary(summary: dict[str, object]) -> None:
    out = Console()
    table = Table("figure", "value", title="crm demo")
    for name, value in summary.items():
        table.add_row(name, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
    out.print(table)
    out.print(
        "[green]every touchpoint accounted for[/green]"
        if summary["ok"]
        else "[red]some events are unaccounted for[/red]"
    )


if __name__ == "__main__":
    app()
