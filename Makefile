# apitokens — the two commands that matter: `make run` and `make test`.
GO    ?= go
GOFMT ?= $(shell $(GO) env GOROOT)/bin/gofmt
DB    ?= data/apitokens.db
ADDR  ?= 127.0.0.1:8080

# Each fuzz test runs for a number of inputs, about five seconds' worth on a
# quiet machine. A duration (FUZZTIME=2m) races the fuzzing engine's own
# deadline in Go 1.26 (golang/go#75804): on a busy machine it can fail with
# "context deadline exceeded" and no failing input. A count cannot.
FUZZTIME ?=
FUZZ_SECRET_RUNS ?= 40000x
FUZZ_LOGO_RUNS   ?= 30000x
FUZZ_FORMS_RUNS  ?= 4000x
FUZZ_RQL_RUNS    ?= 20000x
FUZZ_RQL_WEB_RUNS ?= 3000x
FUZZ_API_RUNS    ?= 4000x
# axe-core, from npm, checks the pages' accessibility in the browser tests.
AXE_VERSION ?= 4.10.3
AXE_DIR     := .cache/axe-core-$(AXE_VERSION)
AXE         := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: run test check fuzz soak bench build generate screenshot clean

## run: build and start the app on $(DB) with demo data, at http://$(ADDR)
run:
	$(GO) run ./cmd/apitokens serve --demo --db $(DB) --addr $(ADDR)

## test: formatting, vet, generated files up to date, then every test
## (store, HTTP and Chromium browser tests) with the race detector; the
## store and HTTP tests run again on PostgreSQL (APITOKENS_TEST_POSTGRES,
## by default the local server, user postgres, trust on 127.0.0.1)
test: check $(AXE)
	APITOKENS_AXE=$(CURDIR)/$(AXE) $(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory fuzz

## fuzz: a short run of each fuzz test on top of its committed corpus
## (testdata/fuzz); FUZZTIME=2m (or 1000000x) for a longer one of each
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseSecret$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_SECRET_RUNS)) ./store
	$(GO) test -run '^$$' -fuzz '^FuzzNormalizeLogo$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_LOGO_RUNS)) ./store
	$(GO) test -run '^$$' -fuzz '^FuzzTokenForms$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_FORMS_RUNS)) ./web
	$(GO) test -run '^$$' -fuzz '^FuzzRQL$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_RQL_RUNS)) ./store
	$(GO) test -run '^$$' -fuzz '^FuzzAPIListQuery$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_RQL_WEB_RUNS)) ./web
	$(GO) test -run '^$$' -fuzz '^FuzzAPITokenBodies$$' -fuzztime $(or $(FUZZTIME),$(FUZZ_API_RUNS)) ./web

## soak: the heavy versions — 200 SIGKILLs of a writing process, the race
## tests ten times over, a few minutes per fuzz test (counted in inputs)
soak:
	APITOKENS_CRASH_ROUNDS=200 $(GO) test -race -count=1 -run 'TestCrashSafety' -timeout 30m ./store
	$(GO) test -race -count=10 -run 'Concurrent|Interleaved' ./...
	$(MAKE) --no-print-directory fuzz FUZZ_SECRET_RUNS=1000000x FUZZ_LOGO_RUNS=700000x FUZZ_FORMS_RUNS=100000x FUZZ_RQL_RUNS=500000x FUZZ_RQL_WEB_RUNS=50000x FUZZ_API_RUNS=100000x

$(AXE):
	npm install --no-audit --no-fund --silent --prefix $(AXE_DIR) axe-core@$(AXE_VERSION)

check:
	@unformatted="$$($(GOFMT) -l cmd web templates static store)" || exit 1; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool templ generate -check -log-level error

## bench: the built app under load beside a net/http hello world
## (cmd/apitokens-bench: wrk when installed, else a built-in generator;
## results in bench/results/), on SQLite and on PostgreSQL at $(BENCH_DB)
## (a database is made there per run; BENCH_DB= for SQLite alone), then
## the Go benchmarks. Shorter: make bench BENCH_FLAGS='--tokens 100 --duration 2s'
BENCH_FLAGS ?=
BENCH_DB    ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
bench: build
	$(GO) run ./cmd/apitokens-bench --bin bin/apitokens $(if $(BENCH_DB),--db '$(BENCH_DB)') $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

## build: a self-contained binary in bin/
build:
	$(GO) build -trimpath -o bin/apitokens ./cmd/apitokens

## generate: regenerate the *_templ.go files after editing a .templ file
generate:
	$(GO) tool templ generate -log-level error

## screenshot: refresh the README's pictures (the list with a menu open, its
## toolbar and paging, a phone's first screen, the Add and Edit dialogs, a
## field's message, the details page, the audit trails, record details, a
## phone's details page, the Delete dialog of a token in use, the Usage tab,
## the Rotate secret dialog)
SHOTS := /tmp/apitokens-shots
screenshot: $(AXE)
	mkdir -p $(SHOTS)
	APITOKENS_AXE=$(CURDIR)/$(AXE) APITOKENS_SCREENSHOTS=$(SHOTS) $(GO) test -count=1 \
	  -run 'TestBrowserActionsMenuKeyboard|TestBrowserListToolbarAndPaging|TestBrowserPhoneFirstScreen|TestBrowserAddDialog$$|TestBrowserEditDialogRenews|TestBrowserDetailsHeaderAndAuditTrail|TestBrowserAccountAuditTrail|TestBrowserNothingScrollsSideways|TestBrowserUsageBeforeDelete|TestBrowserUsageTab|TestBrowserRotateDialog' ./web
	cp $(SHOTS)/TestBrowserActionsMenuKeyboard-menu.png static/screenshots/list-actions-menu.png
	cp $(SHOTS)/TestBrowserListToolbarAndPaging-list.png static/screenshots/list-toolbar-paging.png
	cp $(SHOTS)/TestBrowserPhoneFirstScreen-list.png static/screenshots/list-phone.png
	cp $(SHOTS)/TestBrowserAddDialog-add-dialog.png static/screenshots/add-dialog.png
	cp $(SHOTS)/TestBrowserAddDialog-field-error.png static/screenshots/field-error.png
	cp $(SHOTS)/TestBrowserEditDialogRenews-edit-dialog.png static/screenshots/edit-dialog.png
	cp $(SHOTS)/TestBrowserDetailsHeaderAndAuditTrail-header.png static/screenshots/details-header.png
	cp $(SHOTS)/TestBrowserUsageBeforeDelete-delete-dialog-usage.png static/screenshots/delete-dialog-usage.png
	cp $(SHOTS)/TestBrowserUsageTab-usage-tab.png static/screenshots/usage-tab.png
	cp $(SHOTS)/TestBrowserDetailsHeaderAndAuditTrail-audit-table.png static/screenshots/details-audit-trail.png
	cp $(SHOTS)/TestBrowserDetailsHeaderAndAuditTrail-record-details.png static/screenshots/record-details.png
	cp $(SHOTS)/TestBrowserAccountAuditTrail-account-trail.png static/screenshots/settings-audit-trail.png
	cp $(SHOTS)/TestBrowserNothingScrollsSideways-phone-details.png static/screenshots/phone-details.png
	cp $(SHOTS)/TestBrowserRotateDialog-rotate-dialog.png static/screenshots/rotate-dialog.png

clean:
	rm -rf bin
