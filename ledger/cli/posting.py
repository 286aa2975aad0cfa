"""``ledger post``: read a file of business documents, post it (or dry-run it), say what happened to every line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape

from ledger.cli.common import DbOption, answering, default_actor, err, fail, open_ledger, out, progress_bar
from ledger.cli.render import draw_computation, postings_table, report_post
from ledger.reader import FORMATS, Record, check_encoding, guess_format, open_input, read_records
from ledger.tasks.posting import PostSummary, line_json, post_records


def post(
    file: Annotated[str, typer.Argument(help="JSON Lines or CSV file of business documents; - for stdin.")],
    db: DbOption = None,
    file_format: Annotated[Optional[str], typer.Option("--format", help=f"One of {', '.join(FORMATS)}; by default from the file name.")] = None,
    actor: Annotated[Optional[str], typer.Option(help="Who posts, for documents that do not say.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    encoding: Annotated[Optional[str], typer.Option(help="The file's encoding (utf-8, gbk, gb18030, utf-16); by default detected, see docs/documents.md §2.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line and document (line, id, status, error, field, rule, message), then a summary object.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and compute every document, show each computation, write nothing.")] = False,
    no_project: Annotated[bool, typer.Option("--no-project", help="Commit the events and leave the projections to `ledger project` (a follower); say the log position written up to.")] = False,
) -> None:
    """Post business documents. Good ones are posted, every bad line is listed; re-posting never double-posts."""
    chosen_format = file_format or ("jsonl" if file == "-" else guess_format(file))
    if chosen_format not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}")
    try:
        check_encoding(encoding)
    except ValueError as error:
        raise fail(f"--encoding: {escape(str(error))}") from None
    try:
        stream = open_input(file)
    except OSError as error:
        raise fail(f"cannot read {file}: {error.strerror}") from None
    summary = PostSummary(dry_run=dry_run)
    show_progress = not quiet and not as_json and err.is_terminal
    with answering(), open_ledger(db, project=not no_project) as ledger, stream, progress_bar(show_progress) as progress:
        task = progress.add_task("checking" if dry_run else "posting", total=os.path.getsize(file) if file != "-" else None)

        def records() -> Iterator[Record]:
            for record in read_records(stream, chosen_format, actor or default_actor(), encoding):
                progress.advance(task, record.size_bytes)
                yield record

        for line in post_records(ledger, records(), summary):
            if as_json:
                sys.stdout.write(json.dumps(line_json(line, dry_run), ensure_ascii=False) + "\n")
            elif line.would_post and line.error is None:
                draw_would_post(line.line, line.document_id, line.would_post)
    shown = summary.to_json()
    if no_project and not dry_run:
        shown["position"] = ledger.written_position
    if as_json:
        sys.stdout.write(json.dumps({"summary": shown}, ensure_ascii=False) + "\n")
    else:
        report_post(summary)
        if no_project and not dry_run and ledger.written_position:
            out.print(
                f"events written up to log position {ledger.written_position}; the projections were not updated: "
                "`ledger project` (or a running follower) brings them up to date",
                highlight=False,
            )
    if summary.rejected:
        raise typer.Exit(1)


def draw_would_post(line: int, document_id: str, would: list[dict[str, Any]]) -> None:
    """A dry run's document on screen: each entry's postings, then the computation's steps."""
    out.print(f"[bold]line {line}: {escape(document_id)}[/bold] would post", highlight=False)
    for entry in would:
        out.print(postings_table(f"{entry['event']} in {entry['book']}, effective {entry['effective_date']}", entry["postings"]))
    computation = next((entry["computation"] for entry in would if entry["computation"]), None)
    if computation:
        draw_computation(out, computation)
