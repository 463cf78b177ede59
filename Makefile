# pal: build the tool modules (wasm) first, then the host that embeds them.
#
#   make run     build everything and serve MCP over stdio
#   make test    build, vet, check formatting, run every test (race detector on)
#   make cover   run every test with coverage, the binary's included; per-package totals
#   make bench   run the benchmarks (figures go in docs/benchmarks.md)
#   make fuzz    run every fuzz target for FUZZTIME (default 60s) each

.SECONDEXPANSION:

GO        ?= go
BIN       := bin/pal
MODULES   := internal/builtinwasm/modules
BUILTIN   := $(MODULES)/builtin.wasm
MANIFEST  := $(MODULES)/builtin.manifest
WASM_ENV  := GOOS=wasip1 GOARCH=wasm
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/pal-mcp/pal/internal/app.Version=$(VERSION)
# The build tags of bin/pal, wherever it is built (build, and so bench; the tests read this
# line: cmd/pal's TestDeadMethods links with them, and internal/testwasm.Tags, BuildPal's, must
# be these without palmodules):
#   palmodules   the binary embeds modules/builtin.wasm as a byte slice it serves without a copy,
#                and not the committed builtin.wasm.xz it would never decode
#                (internal/builtinwasm/made.go);
#   grpcnotrace  gRPC (through google.golang.org/genai) leaves out golang.org/x/net/trace, whose
#                html/template turns off the linker's dead-method elimination (docs/RATIONALE.md §73).
PAL_TAGS  := palmodules,grpcnotrace

GUEST_SRC := $(shell find tools-wasm/builtin tools-wasm/sdk -name '*.go' -not -name '*_test.go') \
             tools-wasm/go.mod tools-wasm/go.sum tools-wasm/sdk/go/go.mod
HOST_SRC  := $(shell find . -name '*.go' -not -path './tools-wasm/*' -not -name '*_test.go')
# What `pal tool new` embeds: the templates and kit files `make scaffold-kits` copies.
SCAFFOLD_SRC := $(shell find internal/scaffold -type f -not -name '*.go')

.PHONY: all build modules run test test-tools vet fmt-check cover bench clean fuzz fuzz-all examples test-examples clients conformance builtin-xz check-builtin builtin-chat check-builtin-chat rust-toolchain test-rust c-toolchain

all: build

modules: $(BUILTIN) $(MANIFEST)

# Three Go modules (docs/RATIONALE.md, "The Go kit is its own module"): the host (.), the
# kit (tools-wasm/sdk/go, what a third-party tool requires) and the built-in tools with the
# test modules (tools-wasm, which replaces both with these directories). The host requires
# neither, so `go install` needs no replace; ./... at the top stops at tools-wasm, and the
# targets below run the two nested modules explicitly.
GO_MODS   := . tools-wasm tools-wasm/sdk/go

$(BUILTIN): $(GUEST_SRC)
	$(WASM_ENV) $(GO) -C tools-wasm build -buildmode=c-shared -trimpath -buildvcs=false -o $(CURDIR)/$@ ./builtin

# The committed copy of the built-in module, for `go install` (docs/RATIONALE.md §26, "The built-in
# module is committed, xz-compressed"): $(BUILTIN) compressed with xz. After changing anything the
# guest is built from (tools-wasm/builtin, tools-wasm/sdk, tools-wasm/go.mod), run
# `make builtin-xz` and commit $(BUILTIN_XZ); `make test` fails until the two match.
BUILTIN_XZ := internal/builtinwasm/builtin.wasm.xz
MAX_COMMITTED_BYTES := 1048576

# builtin.manifest, its manifest (from describe), is committed with it, so that a `go install`ed
# pal answers tools/list without compiling the module first.
BUILTIN_MANIFEST_COMMITTED := internal/builtinwasm/builtin.manifest

builtin-xz: $(BUILTIN) $(MANIFEST)
	xz -9e -T1 -c $(BUILTIN) > $(BUILTIN_XZ)
	cp $(MANIFEST) $(BUILTIN_MANIFEST_COMMITTED)
	@$(MAKE) --no-print-directory check-builtin

check-builtin: check-builtin-chat $(BUILTIN) $(MANIFEST)
	@cmp -s $(MANIFEST) $(BUILTIN_MANIFEST_COMMITTED) || { \
		echo "$(BUILTIN_MANIFEST_COMMITTED) is not the manifest of the module the source builds:"; \
		echo "  run 'make builtin-xz' and commit it with $(BUILTIN_XZ)"; exit 1; }
	@xz -dc $(BUILTIN_XZ) | cmp -s - $(BUILTIN) || { \
		echo "$(BUILTIN_XZ) is not the module the source builds ($$($(GO) env GOVERSION)):"; \
		echo "  run 'make builtin-xz' and commit $(BUILTIN_XZ)"; \
		echo "  (after a rebase that conflicts on it: take either side, then 'make builtin-xz')"; exit 1; }
	@size=$$(stat -c %s $(BUILTIN_XZ)); [ $$size -le $(MAX_COMMITTED_BYTES) ] || { \
		echo "$(BUILTIN_XZ) is $$size bytes, over the 1 MiB limit for a committed file; see docs/RATIONALE.md"; exit 1; }

# The built-in module's manifest, keyed by its sha256, embedded beside it: tools/list needs
# neither a describe nor a compile at start (docs/RATIONALE.md).
$(MANIFEST): $(BUILTIN) internal/builtinwasm/describe/main.go
	$(GO) run ./internal/builtinwasm/describe $(BUILTIN) > $@.tmp && mv $@.tmp $@

build: $(BIN)

# Example tools in other languages (docs/authoring.md). Each npm project has a committed
# package-lock.json; `npm ci` installs its toolchain (assemblyscript, the kit, @extism/as-pdk)
# into its own node_modules when that is missing or older than the lock. Modules go to
# out/wasm/<example>.wasm (never committed). Needs node 20 and npm.
NPM          ?= npm
AS_KIT       := tools-wasm/kits/assemblyscript
NPM_EXAMPLES := tools-wasm/examples/assemblyscript tools-wasm/examples/extism
EXAMPLE_WASM := $(patsubst tools-wasm/examples/%,out/wasm/%.wasm,$(NPM_EXAMPLES))
AS_KIT_SRC   := $(wildcard $(AS_KIT)/assembly/*.ts) $(AS_KIT)/fakehost.js

%/node_modules/.package-lock.json: %/package-lock.json %/package.json
	cd $* && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

out/wasm/%.wasm: tools-wasm/examples/%/node_modules/.package-lock.json $$(wildcard tools-wasm/examples/%/assembly/*.ts) tools-wasm/examples/%/asconfig.json $(AS_KIT_SRC)
	@mkdir -p out/wasm
	cd tools-wasm/examples/$* && node node_modules/assemblyscript/bin/asc.js assembly/index.ts --config asconfig.json --target release --outFile $(CURDIR)/$@

# The C example (tools-wasm/examples/c) with the C kit (tools-wasm/kits/c): built by its own
# Makefile, whose pal.mk installs clang-14, lld-14, wasi-libc and libclang-rt-14-dev-wasm32
# from Debian when they are missing, and which `testwasm.BuildC` runs too.
C_KIT     := tools-wasm/kits/c
C_EXAMPLE := tools-wasm/examples/c

out/wasm/c.wasm: $(wildcard $(C_EXAMPLE)/*.c) $(C_EXAMPLE)/Makefile $(C_KIT)/pal.c $(C_KIT)/pal.h $(C_KIT)/pal.mk
	@mkdir -p out/wasm
	$(MAKE) --no-print-directory -C $(C_EXAMPLE) wasm OUT=$(CURDIR)/$@

# clang-14, lld-14, wasi-libc and libclang-rt-14-dev-wasm32, installed with apt when clang-14
# cannot build a wasm32-wasi reactor (pal.mk's probe): for `pal tool new c` projects too.
c-toolchain:
	@$(MAKE) --no-print-directory -C $(C_KIT) pal-toolchain

# The Rust example (tools-wasm/examples/rust, built with the crate tools-wasm/kits/rust) for
# wasm32-unknown-unknown: no WASI imports. Debian's rustc 1.63 and cargo with its wasm32
# standard library (installed with apt when missing), called by full path because a rustup
# shim without the wasm32 target may come first in PATH. cargo runs offline with a private
# CARGO_HOME whose config sends crates.io to Debian's packaged crates (the kit has no
# dependency). Both crates are members of the workspace tools-wasm/Cargo.toml, so cargo names
# their sources by relative paths and the module's sha256 does not depend on the directory it
# was built in (no RUSTFLAGS: cargo 1.65 hashes them into symbol names). Keep in step with
# internal/testwasm/rust.go.
RUSTC        ?= /usr/bin/rustc
RUSTDOC      ?= /usr/bin/rustdoc
CARGO        ?= /usr/bin/cargo
RUST_KIT     := tools-wasm/kits/rust
RUST_EXAMPLE := tools-wasm/examples/rust
RUST_HOME    := out/cargo/home
RUST_SRC     := $(wildcard $(RUST_KIT)/src/*.rs $(RUST_EXAMPLE)/src/*.rs) $(RUST_KIT)/Cargo.toml $(RUST_EXAMPLE)/Cargo.toml tools-wasm/Cargo.toml tools-wasm/Cargo.lock tools-wasm/.cargo/config.toml
RUST_ENV     := CARGO_HOME=$(CURDIR)/$(RUST_HOME) CARGO_TARGET_DIR=$(CURDIR)/out/cargo/target RUSTC=$(RUSTC) RUSTDOC=$(RUSTDOC)
EXAMPLE_WASM += out/wasm/rust.wasm

rust-toolchain:
	@[ -x $(RUSTC) ] && [ -x $(CARGO) ] && [ -d "$$($(RUSTC) --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ] && command -v rust-lld >/dev/null || { \
		echo "installing rustc, cargo, the wasm32 standard library and lld (Debian packages) for the Rust kit"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -q && $$sudo apt-get install -y -q --no-install-recommends rustc cargo libstd-rust-dev-wasm32 lld-14; }

$(RUST_HOME)/config.toml:
	@mkdir -p $(@D)
	printf '[net]\noffline = true\n\n[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "/usr/share/cargo/registry"\n' > $@

out/wasm/rust.wasm: $(RUST_SRC) $(RUST_HOME)/config.toml | rust-toolchain
	@mkdir -p out/wasm
	cd tools-wasm && $(RUST_ENV) $(CARGO) build --offline --locked --release --target wasm32-unknown-unknown -p todo-finder
	cp out/cargo/target/wasm32-unknown-unknown/release/todo_finder.wasm $@

# The built-in chat tool: the Rust crate CHAT_CRATE (package CHAT_PKG, a member of the workspace
# tools-wasm/Cargo.toml), built like the example above into out/wasm/chat.wasm. The binary does
# not embed this build: it embeds the committed copy, CHAT_COMMITTED (raw: ~200 KB), and its
# manifest, so that `make build` and `go install` need no Rust toolchain. After changing the
# crate (or the Rust kit), run `make builtin-chat` and commit both; `make test` (check-builtin)
# rebuilds it and fails until the committed bytes and manifest are what the source builds.
CHAT_CRATE     := tools-wasm/builtin-chat
CHAT_PKG       := pal-chat
CHAT_OUT       := out/cargo/target/wasm32-unknown-unknown/release/$(subst -,_,$(CHAT_PKG)).wasm
CHAT           := out/wasm/chat.wasm
CHAT_MANIFEST  := out/wasm/chat.manifest
CHAT_COMMITTED := internal/builtinwasm/chat.wasm
CHAT_MANIFEST_COMMITTED := internal/builtinwasm/chat.manifest
CHAT_SRC       := $(shell find $(CHAT_CRATE)/src $(RUST_KIT)/src -name '*.rs') $(CHAT_CRATE)/Cargo.toml $(RUST_KIT)/Cargo.toml \
                  tools-wasm/Cargo.toml tools-wasm/Cargo.lock tools-wasm/.cargo/config.toml

$(CHAT): $(CHAT_SRC) $(RUST_HOME)/config.toml | rust-toolchain
	@mkdir -p out/wasm
	cd tools-wasm && $(RUST_ENV) $(CARGO) build --offline --locked --release --target wasm32-unknown-unknown -p $(CHAT_PKG)
	cp $(CHAT_OUT) $@

$(CHAT_MANIFEST): $(CHAT) internal/builtinwasm/describe/main.go
	$(GO) run ./internal/builtinwasm/describe $(CHAT) > $@.tmp && mv $@.tmp $@

# The committed chat module and its manifest (CHAT_COMMITTED), from the crate.
builtin-chat: $(CHAT) $(CHAT_MANIFEST)
	install -m 0644 $(CHAT) $(CHAT_COMMITTED)
	cp $(CHAT_MANIFEST) $(CHAT_MANIFEST_COMMITTED)
	@$(MAKE) --no-print-directory check-builtin-chat

check-builtin-chat: $(CHAT) $(CHAT_MANIFEST)
	@cmp -s $(CHAT) $(CHAT_COMMITTED) || { \
		echo "$(CHAT_COMMITTED) is not the module $(CHAT_CRATE) builds ($$($(RUSTC) --version)):"; \
		echo "  run 'make builtin-chat' and commit $(CHAT_COMMITTED) and $(CHAT_MANIFEST_COMMITTED)"; \
		echo "  (after a rebase that conflicts on them: take either side, then 'make builtin-chat')"; exit 1; }
	@cmp -s $(CHAT_MANIFEST) $(CHAT_MANIFEST_COMMITTED) || { \
		echo "$(CHAT_MANIFEST_COMMITTED) is not the manifest of the module $(CHAT_CRATE) builds:"; \
		echo "  run 'make builtin-chat' and commit it with $(CHAT_COMMITTED)"; exit 1; }
	@size=$$(stat -c %s $(CHAT_COMMITTED)); [ $$size -le $(MAX_COMMITTED_BYTES) ] || { \
		echo "$(CHAT_COMMITTED) is $$size bytes, over the 1 MiB limit for a committed file; see docs/RATIONALE.md"; exit 1; }

# The kit's tests and the example's, natively under the kit's fake host (no server, no wasm).
test-rust: $(RUST_HOME)/config.toml | rust-toolchain
	cd tools-wasm && $(RUST_ENV) $(CARGO) test --offline --locked --workspace

examples: $(EXAMPLE_WASM) out/wasm/c.wasm

# Each example's own tests under node (the kit's fake host, no server), where it has some,
# and the AssemblyScript kit's (its fake host against tools-wasm/testdata/refusals.json); the
# C kit's and the C example's tests natively under the C fake host; the Rust kit's and
# example's natively under the Rust fake host (test-rust).
test-examples: examples test-rust
	cd $(AS_KIT) && node --test test/
	@for d in $(NPM_EXAMPLES); do [ ! -d $$d/test ] || (cd $$d && PAL_WASM=$(CURDIR)/out/wasm/$$(basename $$d).wasm node --test test/) || exit 1; done
	$(MAKE) --no-print-directory -C $(C_KIT) test
	$(MAKE) --no-print-directory -C $(C_EXAMPLE) test

# The third-party MCP clients test/e2e drives the binary with (TestNPMClients): the MCP
# Inspector CLI and the TypeScript SDK client, pinned by test/clients/package-lock.json.
# Needs node 20 and npm; `make test` installs them, and the test fails without them.
clients: test/clients/node_modules/.package-lock.json

# The official MCP conformance suite (TestConformanceSuite) and the Node 22 it needs
# (fs.globSync), both pinned from the npm registry by test/conformance/package-lock.json.
conformance: test/conformance/node_modules/.package-lock.json

# The npm stamps are targets of a pattern rule: keep make from deleting them as intermediates.
.PRECIOUS: %/node_modules/.package-lock.json

# -tags $(PAL_TAGS): see PAL_TAGS above.
$(BIN): $(BUILTIN) $(MANIFEST) $(CHAT_COMMITTED) $(CHAT_MANIFEST_COMMITTED) $(HOST_SRC) $(SCAFFOLD_SRC) go.mod go.sum Makefile
	$(GO) build -trimpath -tags $(PAL_TAGS) -ldflags '$(LDFLAGS)' -o $@ ./cmd/pal

run: build
	./$(BIN) serve

vet: $(BUILTIN) $(MANIFEST)
	@for m in $(GO_MODS); do echo "go vet ($$m)"; $(GO) -C $$m vet ./... || exit 1; done
	$(GO) vet -tags $(PAL_TAGS) ./internal/builtinwasm/
	@for m in tools-wasm tools-wasm/sdk/go; do echo "GOOS=wasip1 go vet ($$m)"; $(WASM_ENV) $(GO) -C $$m vet ./... || exit 1; done

# The kit's copy of the ABI vocabulary (tools-wasm/sdk/go/abi) is generated from runtime/abi:
# the kit module must not require the host's. runtime/abi's TestKitCopy fails until they match.
# The projects `pal tool new LANG NAME` writes: the binary embeds internal/scaffold/<lang>/,
# a copy of tools-wasm/kits/<lang>/template and of the kit files a project carries in kit/
# (the host module cannot embed files of another module). internal/scaffold's TestKitCopies
# fails until the copy matches; this target rewrites it (the file lists are in that test).
.PHONY: scaffold-kits
scaffold-kits:
	$(GO) test -count=1 -run '^TestKitCopies$$' ./internal/scaffold/ -update

.PHONY: kit-abi
kit-abi:
	rm -f tools-wasm/sdk/go/abi/*.go
	for f in runtime/abi/*.go; do b=$$(basename $$f); \
		{ echo "// Code generated by \`make kit-abi\` from runtime/abi/$$b; DO NOT EDIT."; echo; cat $$f; } > tools-wasm/sdk/go/abi/$$b; done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Tests build what they need into temporary directories; the check after them is that they
# left the shipped module as `make modules` built it. TEST_TIMEOUT bounds each test binary:
# Go's default of 10 min is too short for cmd/pal and server under -race on a busy 2-core
# machine (983 s and 686 s measured at load average 25-30; about a third of that when idle).
TEST_TIMEOUT ?= 30m

test: build vet fmt-check check-builtin test-examples test-tools clients conformance
	@before=$$(sha256sum < $(BUILTIN)); \
	for m in $(GO_MODS); do $(GO) -C $$m test -race -count=1 -timeout $(TEST_TIMEOUT) ./... || exit 1; done; \
	$(GO) test -race -count=1 -tags $(PAL_TAGS) ./internal/builtinwasm/ || exit 1; \
	[ "$$before" = "$$(sha256sum < $(BUILTIN))" ] || { echo "a test rewrote $(BUILTIN)"; exit 1; }
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

# Programs the tests run that Go does not fetch: redis-server (Debian's package), for the
# tests of the Redis thread store and of replicas sharing it. Installed when missing.
test-tools:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (Debian package) for the Redis tests"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -q && $$sudo apt-get install -y -q redis-server; }

# Fuzz targets as package:Target: path resolution and deny matching, host-call decoding,
# message framing, redaction, stored thread records, pal tool new's tool names, bounded name patterns. `make test` runs each for FUZZTIME_SHORT, `make fuzz` for FUZZTIME.
FUZZ_TARGETS   := ./policy/:FuzzPaths ./policy/:FuzzClientRoots ./policy/:FuzzDenyMatch ./hostfns/:FuzzCall ./runtime/abi/:FuzzSplit ./policy/secrets/:FuzzRedact ./memory/:FuzzDecodeRecord ./internal/scaffold/:FuzzCheckName ./runtime/:FuzzCheckSections ./runtime/:FuzzReadIndex ./runtime/:FuzzSplitData ./internal/boundedre/:FuzzMatchesTheCountedRegexp
FUZZTIME       ?= 60s
FUZZTIME_SHORT ?= 3s

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# Every fuzz target of the three modules (found by their `func Fuzz` lines), each for FUZZTIME:
# make test runs the short list above; this runs all of them.
fuzz-all:
	@grep -rl --include='*_test.go' '^func Fuzz' . | grep -v -e node_modules -e '^./out/' | sort | while read -r f; do \
		case $$f in ./tools-wasm/sdk/go/*) mod=tools-wasm/sdk/go;; ./tools-wasm/*) mod=tools-wasm;; *) mod=.;; esac; \
		pkg=./$$(dirname $${f#./$$mod/}); [ "$$mod" = . ] && pkg=$$(dirname $$f); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "fuzz $$name ($$mod $$pkg, $(FUZZTIME))"; \
			$(GO) -C $$mod test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# Coverage counts what the unit tests run and what the pal binary runs under the e2e and wire
# tests: testwasm.BuildPal builds that binary with -cover when PAL_TEST_GOCOVERDIR is set, and
# it writes its counters there. Both sets are merged per package by go tool covdata.
COVER := out/cover

cover: build clients
	rm -rf $(COVER) && mkdir -p $(COVER)/unit $(COVER)/bin
	@status=0; PAL_TEST_GOCOVERDIR=$(CURDIR)/$(COVER)/bin $(GO) test -trimpath -count=1 -cover -coverpkg=./... ./... \
		-args -test.gocoverdir=$(CURDIR)/$(COVER)/unit > $(COVER)/test.txt 2>&1 || { cat $(COVER)/test.txt; status=1; }; \
	echo "coverage per package (unit tests and the binary under the e2e tests):"; \
	$(GO) tool covdata percent -i=$(COVER)/unit,$(COVER)/bin | sort | tee $(COVER)/packages.txt; \
	$(GO) tool covdata textfmt -i=$(COVER)/unit,$(COVER)/bin -o $(COVER)/cover.out && \
	$(GO) tool cover -func=$(COVER)/cover.out > $(COVER)/func.txt && tail -1 $(COVER)/func.txt; \
	exit $$status

# The benchmarks measure the shipped binary and module (PAL_TEST_SHIPPED), in two runs: the
# micro-benchmarks (runtime, policy, the in-process ones of test/bench) 6 times each for
# benchstat, then the process-level ones of issue 13 (BENCH_PROC: test/bench/side_test.go and
# the native baseline in tools-wasm/builtin) once each, as every one of those takes its own
# samples and reports their median and p99. The raw output of both is kept in
# docs/benchmarks.txt; docs/benchmarks.md is generated from it, benchstat's summary and the
# machine's state at the start. About 10 minutes on 2 cores.
BENCHSTAT  := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_PROC := ^Benchmark(Startup|Chat|Bulk|BulkNative|Concurrency|Memory|HTTPReplicas)$$

bench: build examples
	mkdir -p out
	{ echo "date: $$(date -u '+%Y-%m-%d %H:%M UTC')"; echo "loadavg: $$(cut -d' ' -f1-3 /proc/loadavg | sed 's/ /, /g')"; } > out/bench-start.txt
	PAL_TEST_SHIPPED=$(CURDIR) $(GO) test -run '^$$' -bench . -skip '$(BENCH_PROC)' -benchmem -count 6 -timeout 30m ./runtime/ ./runtime/extism/ ./policy/ ./test/bench/ > out/bench.txt
	PAL_TEST_SHIPPED=$(CURDIR) $(GO) test -run '^$$' -bench '$(BENCH_PROC)' -benchtime 1x -count 1 -timeout 30m ./test/bench/ >> out/bench.txt
	PAL_TEST_SHIPPED=$(CURDIR) $(GO) -C tools-wasm test -run '^$$' -bench '$(BENCH_PROC)' -benchtime 1x -count 1 -timeout 30m ./builtin/ >> out/bench.txt
	mv out/bench.txt docs/benchmarks.txt
	$(GO) run $(BENCHSTAT) docs/benchmarks.txt > out/benchstat.txt
	$(GO) run ./internal/benchdoc -raw docs/benchmarks.txt -stat out/benchstat.txt -start out/bench-start.txt -bin $(BIN) -module $(BUILTIN) > out/benchmarks.md
	mv out/benchmarks.md docs/benchmarks.md

clean:
	rm -rf bin out $(BUILTIN) $(MANIFEST) $(addsuffix /node_modules,$(NPM_EXAMPLES)) $(C_KIT)/build $(C_EXAMPLE)/build
