# make demo  — a demo municipality on the embedded SQLite store (./ledger.db)
# make test  — the whole suite, on SQLite and PostgreSQL
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIZE ?= 5

.PHONY: demo test install clean

$(BIN)/ledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(BIN)/ledger

install: $(BIN)/ledger

demo: $(BIN)/ledger
	$(BIN)/ledger demo --size $(SIZE)

test: $(BIN)/ledger
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) ledger.db ledger.db-wal ledger.db-shm
