# The two commands of the README: `make demo` runs the platform, `make test` runs the tests.
# Everything else here is what those two need on a fresh machine.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
# uv from the interpreter's own packages, or (where pip may not install there, as on Debian)
# from a virtual environment of its own; looked up each time a recipe runs, so after `tools`.
UV = $(shell [ -x $(TOOLS)/bin/uv ] && echo $(TOOLS)/bin/uv || echo "$(PYTHON) -m uv")
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-deps test lint check pytest setup tools system-test-deps proto clean

demo: demo-deps setup
	$(BIN)/botarena serve --demo

# What the demo needs from a fresh Debian or Ubuntu machine: bubblewrap and libseccomp2 (the
# sandbox of every build and match, and its syscall filter), and python3-venv while no uv is at
# hand. Installed when run as root; otherwise it stops at once with the command to run.
# `scripts/demo-deps.sh --check` only says what is missing.
demo-deps:
	@PYTHON=$(PYTHON) TOOLS=$(TOOLS) scripts/demo-deps.sh

test: setup system-test-deps lint pytest

# Two test processes (pytest-xdist), each with its own PostgreSQL, engines and registry: most
# tests wait on servers and sandboxes, so two share two cores well (13.5 min against 24.7 in
# one). A test module stays in one process, with its module's fixtures.
TEST_WORKERS ?= 2

pytest: setup system-test-deps
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope --durations=25

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

setup: $(VENV)/.installed

tools:
	@$(UV) --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)" 2>/dev/null \
		|| { $(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"; }

$(VENV)/.installed: pyproject.toml uv.lock | tools
	$(UV) sync --frozen --compile-bytecode --python "$$($(PYTHON) -c 'import os, sys; print(os.path.realpath(sys.executable))')"
	@touch $@

# What the tests run for real, from Debian's packages: PostgreSQL's server programs (the tests
# start their own server), bubblewrap and libseccomp (the sandbox and its syscall filter), and
# a Docker engine with runc, a registry, gVisor and podman (the tests start private engines and
# a registry on loopback); chromium for the browser tests (driven through Playwright, whose
# own browser download is never used).
system-test-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	ls /usr/lib/*/libseccomp.so.2 >/dev/null 2>&1 || missing="$$missing libseccomp2"; \
	command -v dockerd >/dev/null 2>&1 || missing="$$missing docker.io"; \
	command -v runc >/dev/null 2>&1 || missing="$$missing runc"; \
	command -v docker-registry >/dev/null 2>&1 || missing="$$missing docker-registry"; \
	command -v runsc >/dev/null 2>&1 || missing="$$missing runsc"; \
	command -v podman >/dev/null 2>&1 || missing="$$missing podman"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends $$missing; \
		else \
			echo "The tests need:$$missing (sudo apt-get install$$missing)" >&2; \
			exit 1; \
		fi; \
	fi

# The executor service's messages, generated from their .proto (committed; run after a change).
proto: setup
	$(BIN)/python -m grpc_tools.protoc -I src --python_out=src --pyi_out=src \
		src/botarena/executor/proto/executor.proto

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
