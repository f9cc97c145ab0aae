"""A progress bar per phase on stderr, for long CLI jobs (rich is imported only when shown)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

OnProgress = Callable[[str, int, int], None]
"""Called with (phase, done, total) as a job advances."""


@contextmanager
def phase_bars(show: bool) -> Iterator[OnProgress | None]:
    """Yields a progress callback drawing one bar per phase, or None when nothing is shown."""
    if not show:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def report(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.update(tasks[phase], completed=max(0, done), total=total)

    with bar:
        yield report
