# Kanin: `make run` starts the app, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs what running Kanin needs (RUN_STAMP); every other
# target adds the test and development tools (STAMP).
RUN_STAMP := $(VENV)/.kanin-run-installed
STAMP := $(VENV)/.kanin-installed


.PHONY: run test lint typecheck contracts pytest bench package smoke install-desktop clean \
	package-onefile smoke-onefile uninstall-desktop bench-packaging deb lintian actionlint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(RUN_STAMP) $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/kanin $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# The GitHub Actions workflow (.github/workflows/); uses shellcheck on its scripts when installed.
actionlint: $(STAMP)
	$(BIN)/actionlint

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck contracts actionlint pytest

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

# --- The standalone binary (build.spec; README "Building the binary") ---
# make package          -> dist/kanin/kanin (one folder, windowed)
# make package-onefile  -> dist/kanin-onefile (one file; unpacks itself on every start)
# make smoke            -> the built binary's --self-test against the broker (URL=... to choose one)
# make install-desktop  -> menu entry and icons for this user (KANIN_EXEC=... for another binary)
PYINSTALLER := $(BIN)/pyinstaller --noconfirm --log-level WARN
KANIN_BINARY := dist/kanin/kanin
KANIN_ONEFILE_BINARY := dist/kanin-onefile
SMOKE_ENV := QT_QPA_PLATFORM=offscreen
SMOKE_ARGS := --self-test $(if $(URL),--url $(URL))
XDG_DATA_HOME ?= $(HOME)/.local/share
DESKTOP_DIR := $(XDG_DATA_HOME)/applications
ICON_DIR := $(XDG_DATA_HOME)/icons/hicolor
ICON_SIZES := 16 32 48 64 128 256 512
KANIN_EXEC ?= $(CURDIR)/$(KANIN_BINARY)

package: $(STAMP)
	$(PYINSTALLER) build.spec
	@echo "built $(KANIN_BINARY) ($$(du -sh dist/kanin | cut -f1))"

package-onefile: $(STAMP)
	KANIN_ONEFILE=1 $(PYINSTALLER) build.spec
	@echo "built $(KANIN_ONEFILE_BINARY) ($$(du -sh $(KANIN_ONEFILE_BINARY) | cut -f1))"

$(KANIN_BINARY):
	$(MAKE) package

$(KANIN_ONEFILE_BINARY):
	$(MAKE) package-onefile

smoke: $(KANIN_BINARY)
	$(SMOKE_ENV) $(KANIN_BINARY) $(SMOKE_ARGS)

smoke-onefile: $(KANIN_ONEFILE_BINARY)
	$(SMOKE_ENV) $(KANIN_ONEFILE_BINARY) $(SMOKE_ARGS)

install-desktop:
	@test -x "$(KANIN_EXEC)" || { echo "make install-desktop: $(KANIN_EXEC) does not exist;" \
		"run 'make package' first, or pass KANIN_EXEC=/path/to/kanin" >&2; exit 1; }
	for size in $(ICON_SIZES); do \
		install -D -m 644 resources/kanin-$$size.png "$(ICON_DIR)/$${size}x$${size}/apps/kanin.png"; \
	done
	install -D -m 644 resources/kanin.svg "$(ICON_DIR)/scalable/apps/kanin.svg"
	mkdir -p "$(DESKTOP_DIR)"
	sed -e 's|^Exec=.*|Exec="$(KANIN_EXEC)"|' -e 's|^TryExec=.*|TryExec=$(KANIN_EXEC)|' \
		resources/kanin.desktop > "$(DESKTOP_DIR)/kanin.desktop"
	chmod 644 "$(DESKTOP_DIR)/kanin.desktop"
	-command -v update-desktop-database >/dev/null && update-desktop-database -q "$(DESKTOP_DIR)"
	-command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t -f "$(ICON_DIR)"
	@echo "installed $(DESKTOP_DIR)/kanin.desktop -> $(KANIN_EXEC)"

uninstall-desktop:
	rm -f "$(DESKTOP_DIR)/kanin.desktop" "$(ICON_DIR)/scalable/apps/kanin.svg"
	for size in $(ICON_SIZES); do rm -f "$(ICON_DIR)/$${size}x$${size}/apps/kanin.png"; done
	-command -v update-desktop-database >/dev/null && update-desktop-database -q "$(DESKTOP_DIR)"
	-command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t -f "$(ICON_DIR)"

# --- The Debian package (packaging/deb; README "Install") ---
# make deb      -> dist/kanin_<version>-<revision>_amd64.deb from the one-folder build
# make lintian  -> Debian's package checker on it (apt-get install lintian)
deb: $(KANIN_BINARY)
	packaging/deb/build-deb.sh

lintian:
	lintian --fail-on error,warning --info $(lastword $(sort $(wildcard dist/kanin_*.deb)))

bench-packaging: $(STAMP)
	$(BIN)/python -m bench.packaging $(BENCH_ARGS)

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
