# clearbook - root Makefile.
#
#   make            build bin/clearbook
#   make test       install missing packages, then every test: normal build
#                   and an AddressSanitizer+UBSan build; under CI=true also a
#                   short run of every fuzzer (tests/fuzz/run-short.sh)
#   make demo       install missing packages, build, run samples/demo.sh out/demo
#   make bench      benchmarks, each printed beside a baseline from the same run
#   make install PREFIX=/usr/local
#   make clean

.DEFAULT_GOAL := all
CC      ?= cc
PREFIX  ?= /usr/local
WARN    := -Wall -Wextra -Wshadow -Wconversion -Werror
CFLAGS_COMMON = -std=c11 -D_GNU_SOURCE $(WARN) -g $(XML_CFLAGS)
OPT     ?= -O2
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
LIBS    := -lxml2 -lcsv -linih -lsqlite3 -lcrypto -ljansson -lmicrohttpd -lpthread
TESTLIBS := -lcmocka

LEDGER_SRC := $(wildcard ledger/*.c)
IMPORTERS_SRC := $(wildcard importers/*.c)
# clearing/, reports/, exporters/ and front/ stand on the ledger and the
# importers; they share one library.
MODULES_SRC := $(wildcard clearing/*.c reports/*.c exporters/*.c front/*.c)
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

# The same sources must build warning-free under clang too; make test checks.
build/clang/clearbook: $(LEDGER_SRC) $(IMPORTERS_SRC) $(MODULES_SRC) $(CLI_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(CFLAGS_COMMON) $(OPT) $(LEDGER_SRC) $(IMPORTERS_SRC) $(MODULES_SRC) $(CLI_SRC) -o $@ $(LIBS)

# libFuzzer targets (clang); `make fuzz FUZZ_SECONDS=60` runs each, seeded
# from tests/fuzz/corpus-*/.
FUZZ_SECONDS ?= 30
FUZZFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LEDGER_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $(XML_CFLAGS) $< $(LEDGER_SRC) -o $@ $(LIBS)
build/fuzz/fuzz_camt: tests/fuzz/fuzz_camt.c $(IMPORTERS_SRC) $(LEDGER_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $(XML_CFLAGS) $< $(IMPORTERS_SRC) $(LEDGER_SRC) -o $@ $(LIBS)
build/fuzz/fuzz_csv: tests/fuzz/fuzz_csv.c $(IMPORTERS_SRC) $(LEDGER_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZFLAGS) $(XML_CFLAGS) $< $(IMPORTERS_SRC) $(LEDGER_SRC) -o $@ $(LIBS)
fuzz: build/fuzz/fuzz_json build/fuzz/fuzz_amount build/fuzz/fuzz_camt build/fuzz/fuzz_csv
	@mkdir -p build/fuzz/corpus-json build/fuzz/corpus-amount build/fuzz/corpus-camt build/fuzz/corpus-csv
	build/fuzz/fuzz_json -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-json tests/fuzz/corpus-json
	build/fuzz/fuzz_amount -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-amount tests/fuzz/corpus-amount
	build/fuzz/fuzz_camt -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-camt tests/fuzz/corpus-camt
	build/fuzz/fuzz_csv -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-csv tests/fuzz/corpus-csv

.PHONY: all release asan test unit e2e demo bench install clean deps fuzz
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
	MAKE="$(MAKE)" tests/fuzz/run-short.sh

demo: deps
	$(MAKE) bin/clearbook
	samples/demo.sh out/demo

bench: deps
	$(MAKE) bin/clearbook build/release/bench_raw build/release/bench_floor
	bench/run.sh
	bench/import.sh
	bench/import_csv.sh
	bench/reconcile.sh
	bench/front.sh
	bench/reports.sh

build/release/bench_raw: bench/raw_inserts.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) $< -o $@ -lsqlite3

build/release/bench_floor: bench/floor_inserts.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(OPT) $< -o $@ -lsqlite3

install: bin/clearbook
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/clearbook
	install -m 0755 bin/clearbook $(DESTDIR)$(PREFIX)/bin/clearbook
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/clearbook/
	install -d $(DESTDIR)$(PREFIX)/share/clearbook/profiles
	install -m 0644 importers/profiles/*.ini importers/profiles/README.md \
		$(DESTDIR)$(PREFIX)/share/clearbook/profiles/

clean:
	rm -rf build bin out
