# Kagami — the two commands: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
VENV = $(shell scripts/bootstrap.sh $(1) | tail -n 1)

.PHONY: help run test test-sqlite test-postgres bench prod lint schema

help:
	@echo "make run    install what is missing, migrate, load the demo, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   install what is missing and run the whole suite on SQLite and PostgreSQL"
	@echo "make bench  run the benchmarks and write bench/RESULTS.md"
	@echo "make prod   gunicorn + PostgreSQL + Redis + Celery on loopback (ACTION=stop|status to stop or inspect)"

run:
	@venv=$$(scripts/bootstrap.sh run | tail -n 1) && \
	export DEBUG=$${DEBUG:-true} && \
	export KAGAMI_PUBLIC_URL=$${KAGAMI_PUBLIC_URL:-http://127.0.0.1:$(PORT)} && \
	$$venv/bin/python manage.py migrate --noinput -v 0 && \
	$$venv/bin/python manage.py load_demo --journey-pilot --internal-services && \
	echo "" && echo "Kagami is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)" && \
	exec $$venv/bin/python manage.py runserver 127.0.0.1:$(PORT) --noreload

test:
	@venv=$$(scripts/bootstrap.sh test | tail -n 1) && \
	export PATH="$$venv/bin:$$PATH" && \
	scripts/run_tests.sh

lint:
	@venv=$$(scripts/bootstrap.sh test | tail -n 1) && $$venv/bin/ruff check .

schema:
	@venv=$$(scripts/bootstrap.sh run | tail -n 1) && \
	DEBUG=true $$venv/bin/python manage.py spectacular --validate --fail-on-warn --file schema.yml

bench:
	@venv=$$(scripts/bootstrap.sh test | tail -n 1) && \
	export PATH="$$venv/bin:$$PATH" && \
	bench/run.sh

prod:
	@venv=$$(scripts/bootstrap.sh test | tail -n 1) && \
	export PATH="$$venv/bin:$$PATH" && \
	scripts/prod.sh $${ACTION:-start}
