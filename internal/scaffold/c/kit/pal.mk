# pal.mk: build and test rules for a pal tool in C (tools-wasm/kits/c, docs/authoring.md).
#
# A tool's Makefile sets PAL_KIT (this directory), TOOL_SRC (its .c files), TOOL_TEST (the
# .c files of its native test, with main) and OUT (the module to build), then includes this
# file:
#
#   PAL_KIT   ?= ../../kits/c
#   TOOL_SRC  := todo.c
#   TOOL_TEST := todo_test.c
#   OUT       ?= build/todo.wasm
#   include $(PAL_KIT)/pal.mk
#
# Targets: `wasm` (the default: OUT), `test` (the tool's handlers compiled natively with the
# kit's fake host, under AddressSanitizer), `pal-toolchain` (installs clang-14, lld-14,
# wasi-libc and libclang-rt-14-dev-wasm32 from Debian with apt-get when the compiler cannot
# build a wasm32-wasi reactor).
#
# The module is reproducible: the same sources and clang give the same bytes in any
# directory (no paths or debug info are kept: --strip-all), so its sha256 pin only changes
# when the source or the compiler does.

PAL_CLANG ?= clang-14
PAL_CC    ?= cc
PAL_BUILD ?= build

PAL_WASM_CFLAGS  := --target=wasm32-wasi -Oz -mexec-model=reactor -std=c11 -Wall -Wextra -Werror \
                    -ffile-prefix-map=$(CURDIR)=. -I$(PAL_KIT)
PAL_WASM_LDFLAGS := -Wl,--strip-all
PAL_TEST_CFLAGS  := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
                    -fno-sanitize-recover=all -I$(PAL_KIT)
PAL_KIT_SRC      := $(PAL_KIT)/pal.c $(PAL_KIT)/pal.h

.PHONY: wasm test pal-toolchain
.DEFAULT_GOAL := wasm

wasm: $(OUT)

$(OUT): $(TOOL_SRC) $(PAL_KIT_SRC) | pal-toolchain
	@mkdir -p $(dir $@)
	$(PAL_CLANG) $(PAL_WASM_CFLAGS) $(PAL_WASM_LDFLAGS) -o $@ $(TOOL_SRC) $(PAL_KIT)/pal.c

test: $(PAL_BUILD)/test-native
	$(PAL_BUILD)/test-native

$(PAL_BUILD)/test-native: $(TOOL_SRC) $(TOOL_TEST) $(PAL_KIT_SRC) $(PAL_KIT)/fakehost.c $(PAL_KIT)/fakehost.h
	@mkdir -p $(dir $@)
	$(PAL_CC) $(PAL_TEST_CFLAGS) -o $@ $(TOOL_SRC) $(TOOL_TEST) $(PAL_KIT)/pal.c $(PAL_KIT)/fakehost.c

# A probe: can the compiler, linker, wasi-libc and the wasm32 builtins build a reactor?
pal-toolchain:
	@printf 'void pal_probe(void){}\n' | $(PAL_CLANG) --target=wasm32-wasi -mexec-model=reactor -x c - -o /dev/null 2>/dev/null || { \
		echo "installing clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 (Debian packages) to build C tools"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -q && $$sudo apt-get install -y -q --no-install-recommends clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32; }
