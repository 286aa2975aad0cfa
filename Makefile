# make demo  — a demo municipality on the embedded SQLite store (./ledger.db)
# make serve — the HTTP API (docs/service.md) on the demo store at http://127.0.0.1:8000 (run make demo first)
# make test  — the whole suite, on SQLite and PostgreSQL
# make bench — the benchmarks with their same-run baselines (docs/performance.md), the service under load among them, a few minutes;
#              make bench SIZE=80 (or BENCH_SIZE=80) for a larger province,
#              BENCH_QUERY_EVENTS=1000000,10000000 for balance and as-of reads at 10 million events too (about 8-11 minutes)
#              PGLEDGER=PATH (a checkout of github.com/pgr0ss/pgledger) also times that peer ledger on the same server
# make chaos — the fault campaign (docs/reliability.md): kills, concurrent writers, malformed input, tampering; exit 1 on any failure
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIZE ?= 5
BENCH_SIZE ?= 40
BENCH_QUERY_EVENTS ?= 1000000
BENCH_ARGS ?=
CHAOS_SIZE ?= 10
CHAOS_SQLITE_KILLS ?= 50
CHAOS_POSTGRES_KILLS ?= 30
CHAOS_WRITER_TRIALS ?= 2
CHAOS_CONNECTION_KILLS ?= 10
CHAOS_MALFORMED ?= 10000
CHAOS_ARGS ?=
# `make bench SIZE=...` sizes the bench; the demo keeps its own default.
ifeq ($(origin SIZE),command line)
BENCH_SIZE := $(SIZE)
endif

.PHONY: demo serve test bench chaos install clean

$(BIN)/ledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(BIN)/ledger

install: $(BIN)/ledger

demo: $(BIN)/ledger
	$(BIN)/ledger demo --size $(SIZE)

serve: $(BIN)/ledger
	$(BIN)/ledger serve --db sqlite:///ledger.db --host 127.0.0.1 --port 8000

test: $(BIN)/ledger
	$(BIN)/python -m pytest -q

# PostgreSQL: LEDGER_BENCH_POSTGRES (default the local server's database `bench`, whose tables it drops).
bench: $(BIN)/ledger
	$(BIN)/python -m bench.run --size $(BENCH_SIZE) --query-events $(BENCH_QUERY_EVENTS) $(BENCH_ARGS)

# PostgreSQL: LEDGER_CHAOS_POSTGRES (default the local server's database `chaos`, whose ledger_* and proj_* tables it drops).
chaos: $(BIN)/ledger
	$(BIN)/python -m bench.chaos --size $(CHAOS_SIZE) --sqlite-kills $(CHAOS_SQLITE_KILLS) --postgres-kills $(CHAOS_POSTGRES_KILLS) \
		--writer-trials $(CHAOS_WRITER_TRIALS) --connection-kills $(CHAOS_CONNECTION_KILLS) --malformed $(CHAOS_MALFORMED) $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) ledger.db ledger.db-wal ledger.db-shm
