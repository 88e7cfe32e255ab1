# lms: PostgreSQL extension (extension/) and HTTP gateway (gateway/).
#
#   make / make install      build and install the extension (and build the gateway)
#   make installcheck        pg_regress against a running server (PGHOST/PGPORT/PGUSER)
#   make test                every suite on a private throwaway cluster; ends "N passed, M failed"
#   make demo / make stop    the embedded default: private cluster, demo data, gateway on localhost
#   make bench               benchmarks that print figures (make bench-side_by_side: against the
#                            Node peer; make bench-profile: where each request's time goes)
#   make charts              the SVG charts of docs/performance.md from docs/charts/*.tsv
#   make soak                the realistic mix for SOAK s (default 1800) with PostgreSQL restarts
#   make conformance         ADL's xAPI conformance suite against the LRS (1.0.3 and 2.0.0)

MODULE_big = lms
# The extension's C files, by layer (docs/architecture.md): entry points, core, store,
# foundation. A new file is added here; the check below refuses a C file left out.
OBJS = \
	extension/api_gamification_me.o extension/api_leaderboards.o extension/api_leagues_me.o extension/api_progress.o extension/api_progress_course.o \
	extension/progress_answer.o \
	extension/enrollment.o extension/identity.o extension/leaderboard_read.o extension/worker.o extension/xapi.o extension/xapi_validate.o \
	extension/progress.o extension/scoring.o extension/point_rules.o extension/leagues.o extension/leaderboard_refresh.o extension/leaderboard.o \
	extension/progress_store.o extension/xapi_emit.o extension/direct.o extension/plans.o \
	extension/api.o extension/rules.o extension/timezone.o extension/json_out.o extension/lms.o
MODULEDIR = extension
ifneq ($(sort $(OBJS)),$(sort $(patsubst %.c,%.o,$(wildcard extension/*.c))))
$(error OBJS and extension/*.c differ: $(filter-out $(OBJS),$(patsubst %.c,%.o,$(wildcard extension/*.c))) $(filter-out $(patsubst %.c,%.o,$(wildcard extension/*.c)),$(OBJS)))
endif

# The install script of the current version is assembled from one file per concept
# (extension/sql/NN_*.sql); each upgrade script from its hand-written steps plus every
# function, view, trigger, comment and grant of the current install script
# (extension/redefine.py, extension/upgrade/README.md). Released install scripts
# (extension/lms--1.0.sql) are frozen files.
EXTVERSION = 1.1
ifneq ($(EXTVERSION),$(shell sed -nE "s/^default_version *= *'([^']+)'.*/\1/p" extension/lms.control))
$(error EXTVERSION $(EXTVERSION) is not default_version of extension/lms.control)
endif
INSTALL_PARTS = $(sort $(wildcard extension/sql/*.sql))
UPGRADES = $(patsubst extension/upgrade/%/,extension/lms--%.sql,$(sort $(dir $(wildcard extension/upgrade/*/*.sql))))
DATA_built = extension/lms--$(EXTVERSION).sql $(UPGRADES)
DATA = extension/lms.control extension/lms--1.0.sql

# pg_regress: tests/regress/sql, tests/regress/expected, the shared opening tests/regress/setup.psql
REGRESS = $(patsubst tests/regress/sql/%.sql,%,$(sort $(wildcard tests/regress/sql/*.sql)))
REGRESS_OPTS = --inputdir=tests/regress --load-extension=pgcrypto
ISOLATION = $(patsubst tests/isolation/specs/%.spec,%,$(sort $(wildcard tests/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=tests/isolation --outputdir=output_iso

PG_CPPFLAGS = -Iextension -Icontract
# warnings are errors in CI (.ci/run sets WERROR=1), not in every build: a newer compiler's new
# warning must not stop someone from installing a release
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare \
	$(if $(WERROR),-Werror)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

extension/lms--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@

.SECONDEXPANSION:
$(UPGRADES): extension/lms--%.sql: $$(wildcard extension/upgrade/$$*/*.sql) extension/redefine.py $(INSTALL_PARTS)
	python3 extension/redefine.py extension/upgrade/$* --whole extension/sql/95_privileges.sql $(INSTALL_PARTS) > $@

# PGXS tracks no header dependencies: rebuild every object when any header changes
# (a struct changed under a stale object is a crash, not a compile error).
$(OBJS): $(wildcard extension/*.h)

# The gateway has its own Makefile; it is built and installed with the extension.
all: gateway
.PHONY: gateway install-gateway test demo stop bench soak conformance charts
gateway:
	@if [ -f gateway/Makefile ]; then $(MAKE) -C gateway; fi

install: install-gateway
install-gateway: gateway
	@if [ -f gateway/Makefile ]; then $(MAKE) -C gateway install; fi

test:
	devenv/test.sh

demo:
	demo/up.sh

stop:
	demo/down.sh

bench:
	bench/run.sh

# The 30-minute soak (issue 10, not part of `make test`): SOAK=seconds, RESTART_EVERY=seconds.
soak:
	bench/soak.sh

conformance:
	tests/conformance/run.sh

bench-%:
	bench/$*.sh

# The SVG charts of docs/performance.md from the measured data files in docs/charts/.
charts:
	bench/charts.sh

# Load tests (issue 5): `make bench-data SCALE=tiny|small|medium|large` generates data into the
# database named by PG* (default lms_bench); `make loadtest SCENARIO=...` runs a wrk scenario of
# bench/loadtest/ against a running gateway (BASE_URL, default the demo's).
.PHONY: bench-data loadtest
bench-data:
	bench/data/generate.sh $(SCALE)
loadtest:
	bench/loadtest/run.sh $(SCENARIO)
