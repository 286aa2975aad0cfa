"""The ledger's fault campaign (``make chaos``): not a benchmark, a search for lost, doubled or forged figures.

Every scenario posts documents the way a user does — ``ledger post FILE
--db URL`` in a child process — and then proves the books: they must equal
a clean reference store posted from the same file (every book's balances,
its event count and whether it is closed, the 财政专户 rows, the document
registry and the seals), nothing may be lost or doubled, and ``verify``
must agree — or, where the campaign forged a row itself, ``verify`` must
name it. docs/reliability.md says what each scenario does and records the
figures of the last full run.

| module | what it holds |
|---|---|
| ``bench/chaos/books.py`` | the fingerprint of a store's books, its differences, ``verify`` |
| ``bench/chaos/children.py`` | ``ledger post`` in child processes: summary, tracebacks, kills |
| ``bench/chaos/faults.py`` | SIGKILL, concurrent writers, killed database connections |
| ``bench/chaos/malformed.py`` | malformed documents of many kinds, mixed with good ones |
| ``bench/chaos/tampering.py`` | every single-row change and deletion of every ledger table |
| ``bench/chaos/campaign.py`` | the shared state of a run: files, stores, references, results |
| ``bench/chaos/__main__.py`` | the command: ``python -m bench.chaos --size N`` |
"""
