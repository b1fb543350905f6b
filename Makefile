# The two commands (README.md): `make run` and `make test`.
.PHONY: run test lint typecheck check
# Where `make run` serves: make run ADDR=127.0.0.1:8123
ADDR ?= 127.0.0.1:8000

run:
	./bin/setup
	.venv/bin/python manage.py demo_user
	.venv/bin/python manage.py demo_data
	.venv/bin/python manage.py serve --addr $(ADDR)

test:
	SHIPOPS_SKIP_MIGRATE=1 ./bin/setup --dev
	.venv/bin/pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy .

check: lint typecheck test
