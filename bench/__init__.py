"""The ledger's benchmark suite (``make bench``): not tests, measurements.

It generates a synthetic province with the demo generator, posts it through
the ledger's public API (``Ledger``, ``read_records``, the ``ledger``
command) on SQLite and on PostgreSQL, and measures every figure against a
baseline taken in the same run on the same machine, so that a ratio means
something even when the machine is slower or busier than the last one.

| module | what it holds |
|---|---|
| ``bench/stores.py`` | the two backends: fresh stores, driver connections, dropping tables |
| ``bench/baselines.py`` | raw driver inserts and reads, and the untouched ``eventsourcing`` library |
| ``bench/reads.py`` | balance and as-of reads, province-sized projections, filling the events table and ``proj_lines`` |
| ``bench/processes.py`` | ``ledger post`` in a child process: wall time and peak memory |
| ``bench/report.py`` | the printed table and the JSON file |
| ``bench/run.py`` | the command: ``python -m bench.run --size N`` |
"""
