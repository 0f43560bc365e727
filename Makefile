# clearbook - root Makefile.
#
#   make            build bin/clearbook
#   make test       install missing packages, then every test: normal build
#                   and an AddressSanitizer+UBSan build; under CI=true also a
#                   short run of every fuzzer (tests/fuzz/run-short.sh)
#   make demo       install missing packages, build, run samples/demo.sh out/demo
#   make bench      every benchmark at 10^4, 10^5, 10^6 (or SCALE=N), each beside
#                   a baseline from the same run: bench/results.json, results.md
#   make install PREFIX=/usr/local
#   make clean

.DEFAULT_GOAL := all
CC      ?= cc
PREFIX  ?= /usr/local
WARN    := -Wall -Wextra -Wshadow -Wconversion -Werror
CFLAGS_COMMON = -std=c11 -D_GNU_SOURCE $(WARN) -g $(XML_CFLAGS)
OPT     ?= -O2
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN    := -fsanitize=thread -fno-omit-frame-pointer
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
LIBS    := -lxml2 -lcsv -linih -lsqlite3 -lcrypto -ljansson -lmicrohttpd -lpthread
TESTLIBS := -lcmocka

LEDGER_SRC := $(wildcard ledger/*.c)
IMPORTERS_SRC := $(wildcard importers/*.c)
# clearing/, reports/, exporters/ and front/ stand on the ledger and the
# importers; they share one library.
MODULES_SRC := $(wildcard clearing/*.c reports/*.c reports/pinyin/*.c exporters/*.c front/*.c)
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
HEADERS    := $(wildcard ledger/*.h cli/*.h importers/*.h clearing/*.h reports/*.h \
                exporters/*.h front/*.h)

# $(call variant,NAME,DIR,CFLAGS,LDFLAGS)
define variant
$(2)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -c $$< -o $$@
$(2)/libledger.a: $(patsubst %.c,$(2)/obj/%.o,$(LEDGER_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
$(2)/libimporters.a: $(patsubst %.c,$(2)/obj/%.o,$(IMPORTERS_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
$(2)/libmodules.a: $(patsubst %.c,$(2)/obj/%.o,$(MODULES_SRC))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
$(2)/clearbook: $(patsubst %.c,$(2)/obj/%.o,$(CLI_SRC)) $(2)/libmodules.a $(2)/libimporters.a $(2)/libledger.a
	$$(CC) $(3) $$^ -o $$@ $(4) $(LIBS)
$(2)/tests/%: tests/unit/%.c $(2)/libmodules.a $(2)/libimporters.a $(2)/libledger.a $(HEADERS)
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -Wno-conversion $$< $(2)/libmodules.a $(2)/libimporters.a $(2)/libledger.a -o $$@ $(4) $(LIBS) $(TESTLIBS)
$(1): $(2)/clearbook $(patsubst tests/unit/%.c,$(2)/tests/%,$(UNIT_SRC))
endef

$(eval $(call variant,release,build/release,$(CFLAGS_COMMON) $(OPT),))
$(eval $(call variant,asan,build/asan,$(CFLAGS_COMMON) -O1 $(SAN),$(SAN)))
# ThreadSanitizer, for the code that runs on more than one thread (the
# post reader, the reconciliation's writer and line reader): make test runs
# the tests of those parts on it (tests/run-threads.sh).
$(eval $(call variant,tsan-all,build/tsan,$(CFLAGS_COMMON) -O1 $(TSAN),$(TSAN)))
TSAN_TESTS := build/tsan/tests/test_bgwrite build/tsan/tests/test_ckpt build/tsan/tests/test_reader
tsan: build/tsan/clearbook $(TSAN_TESTS)

# The same sources must build warning-free under clang too; make test checks.
build/clang/clearbook: $(LEDGER_SRC) $(IMPORTERS_SRC) $(MODULES_SRC) $(CLI_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_COMMON) $(OPT) $(LEDGER_SRC) $(IMPORTERS_SRC) $(MODULES_SRC) $(CLI_SRC) -o $@ $(LIBS)

# libFuzzer targets (clang); `make fuzz FUZZ_SECONDS=60` runs each, seeded
# from tests/fuzz/corpus-*/ (docs/fuzzing.md).  The sources are compiled
# once with the fuzzer's coverage instrumentation into one archive; each
# harness links only what it calls.  UBSan does not recover: undefined
# behaviour stops the fuzzer like a crash, so that it is found, not logged.
FUZZ_SECONDS ?= 30
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(XML_CFLAGS)
FUZZ_SRC := $(LEDGER_SRC) $(IMPORTERS_SRC) $(MODULES_SRC)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
build/fuzz/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/libclearbook.a: $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_SRC))
	rm -f $@ && ar rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libclearbook.a $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< build/fuzz/libclearbook.a -o $@ $(LIBS)
fuzz: $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build/fuzz/corpus-$$n build/fuzz/artifacts || exit 1; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -artifact_prefix=build/fuzz/artifacts/$$n- \
			build/fuzz/corpus-$$n tests/fuzz/corpus-$$n || exit 1; \
	done

.PHONY: all release asan tsan test unit e2e demo bench install clean deps fuzz
all: bin/clearbook

bin/clearbook: build/release/clearbook
	@mkdir -p bin
	cp $< $@

deps:
	@scripts/deps.sh

test: deps
	$(MAKE) release asan bin/clearbook build/clang/clearbook
	tests/run.sh build/release
	tests/run.sh build/asan
	$(MAKE) tsan
	tests/run-threads.sh build/tsan
	MAKE="$(MAKE)" tests/fuzz/run-short.sh

demo: deps
	$(MAKE) bin/clearbook
	samples/demo.sh out/demo

bench: deps
	$(MAKE) bin/clearbook build/release/bench_raw build/release/bench_floor \
		build/release/bench_csv_pass
	bench/all.sh

build/release/bench_raw: bench/raw_inserts.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) $< -o $@ -lsqlite3

build/release/bench_floor: bench/floor_inserts.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) $< -o $@ -lsqlite3

build/release/bench_csv_pass: bench/csv_pass.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) $< -o $@ -lcsv

install: bin/clearbook
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/clearbook
	install -m 0755 bin/clearbook $(DESTDIR)$(PREFIX)/bin/clearbook
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/clearbook/
	install -d $(DESTDIR)$(PREFIX)/share/clearbook/profiles
	install -m 0644 importers/profiles/*.ini importers/profiles/README.md \
		$(DESTDIR)$(PREFIX)/share/clearbook/profiles/

clean:
	rm -rf build bin out
