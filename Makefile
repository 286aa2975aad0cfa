# make demo  — a demo municipality on the embedded SQLite store (./ledger.db)
# make test  — the whole suite, on SQLite and PostgreSQL
# make bench — the benchmarks with their same-run baselines (docs/performance.md), a few minutes;
#              make bench SIZE=80 (or BENCH_SIZE=80) for a larger province,
#              BENCH_QUERY_EVENTS=1000000,10000000 for balance and as-of reads at 10 million events too (about 8-11 minutes)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIZE ?= 5
BENCH_SIZE ?= 40
BENCH_QUERY_EVENTS ?= 1000000
BENCH_ARGS ?=
# `make bench SIZE=...` sizes the bench; the demo keeps its own default.
ifeq ($(origin SIZE),command line)
BENCH_SIZE := $(SIZE)
endif

.PHONY: demo test bench install clean

$(BIN)/ledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(BIN)/ledger

install: $(BIN)/ledger

demo: $(BIN)/ledger
	$(BIN)/ledger demo --size $(SIZE)

test: $(BIN)/ledger
	$(BIN)/python -m pytest -q

# PostgreSQL: LEDGER_BENCH_POSTGRES (default the local server's database `bench`, whose tables it drops).
bench: $(BIN)/ledger
	$(BIN)/python -m bench.run --size $(BENCH_SIZE) --query-events $(BENCH_QUERY_EVENTS) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) ledger.db ledger.db-wal ledger.db-shm
