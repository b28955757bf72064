# kovpn — top-level build and test driver.
#
#   make                      build module, addon and TypeScript
#   make KERNEL_SRC=DIR       build the module against another kernel tree
#   make KERNEL_SRC=DIR install   install the module (updates/, depmod)
#   make demo                 two namespaces, a tunnel, ping and throughput
#   make check                every test (check-host + check-vm); last line "N passed, N failed"
#   make check-host           tests that need no VM (unit, host netlink, netns on the userspace path)
#   make check-vm             the VM suite (Debian's kernel in qemu, module loaded)
#   make check-vm-debug       kernel smoke tests, genl fuzzer and lifecycle torture (100x,
#                             kmemleak) under a KASAN/lockdep build of Debian's 6.1
#                             (builds that kernel once: 14+ minutes; not part of make check)
#   make check-stress         long adversarial runs (make check runs them short; not part of it):
#                             control-channel fuzzer for FUZZ_SECONDS (600), packet injector with
#                             STRESS_COUNT (1,000,000) bad packets per data path, genl fuzzer
#                             (600 s) and lifecycle torture (100x each) on Debian's kernel in the VM
#   make bench                benchmarks (report only, never fail)
#   make soak                 1 hour (SOAK_SECONDS) of iperf3 through a rekeying, churning server; not in CI
#   make clean

SHELL := /bin/bash
.DEFAULT_GOAL := all

# The kernel tree the module is built against: the first installed headers by default
# (the host kernel itself has no module support, so never `uname -r`).
KERNEL_SRC ?= $(firstword $(wildcard /lib/modules/*/build))
# The VM suite against another kernel: KERNEL=<bzImage> KERNEL_SRC=<its build dir> (the module
# is built against KERNEL_SRC). VM_ARGS passes anything else to tests/qemu/run.sh.
KERNEL ?=
VM_ARGS ?=
VM_ARGS += $(if $(KERNEL),--kernel $(KERNEL))

RESULTS_DIR := .build/results
NODE_DEPS := node_modules/.kovpn-lock-stamp
ADDON := native/netlink/build/Release/kovpn_netlink.node
TS_STAMP := dist/.stamp

.PHONY: all deps deps-host build kmod native ts install clean check check-host check-vm \
	check-vm-debug demo bench sparse check-stress soak

all: build

deps:
	@scripts/install-deps.sh all

deps-host:
	@scripts/install-deps.sh host

$(NODE_DEPS): package-lock.json
	@scripts/install-deps.sh host

build: kmod native ts

kmod:
	@if [ -z "$(KERNEL_SRC)" ]; then \
		echo "make: no kernel headers found: apt-get install linux-headers-amd64, or set KERNEL_SRC=<kernel build dir>" >&2; \
		exit 1; fi
	$(MAKE) -C kmod KERNEL_SRC=$(KERNEL_SRC)

native: $(ADDON)

# Node's headers come from the system (/usr/include/node): nothing is downloaded.
NODEDIR ?= $(if $(wildcard /usr/include/node/node.h),/usr)

$(ADDON): $(NODE_DEPS) native/netlink/binding.gyp $(wildcard native/netlink/src/*)
	npx node-gyp configure build --directory native/netlink --loglevel=warn \
		$(if $(NODEDIR),--nodedir=$(NODEDIR))

ts: $(TS_STAMP)

$(TS_STAMP): $(NODE_DEPS) tsconfig.json $(shell find src tests bench -name '*.ts' 2>/dev/null)
	npx tsc -p tsconfig.json
	@touch $@

install: kmod
	$(MAKE) -C kmod KERNEL_SRC=$(KERNEL_SRC) install

sparse:
	$(MAKE) -C kmod KERNEL_SRC=$(KERNEL_SRC) C=1

clean:
	$(MAKE) -C kmod KERNEL_SRC=$(KERNEL_SRC) clean || true
	rm -rf dist native/netlink/build .build tests/qemu/out

# --- tests -------------------------------------------------------------------------------

check:
	@mkdir -p $(RESULTS_DIR); rm -f $(RESULTS_DIR)/check.txt
	@$(MAKE) --no-print-directory check-host KOVPN_RESULTS=$(CURDIR)/$(RESULTS_DIR)/check.txt SUMMARY=no || true
	@$(MAKE) --no-print-directory check-vm KOVPN_RESULTS=$(CURDIR)/$(RESULTS_DIR)/check.txt SUMMARY=no || true
	@scripts/summarize.sh $(RESULTS_DIR)/check.txt

check-host: export KOVPN_RESULTS ?= $(CURDIR)/$(RESULTS_DIR)/check-host.txt
check-host:
	@scripts/install-deps.sh host
	@mkdir -p $(RESULTS_DIR); [ "$(SUMMARY)" = no ] || rm -f $(KOVPN_RESULTS)
	@$(MAKE) --no-print-directory native ts || echo "FAIL build: addon and TypeScript" >> $(KOVPN_RESULTS)
	@tests/run-host.sh
	@[ "$(SUMMARY)" = no ] || scripts/summarize.sh $(KOVPN_RESULTS)

check-vm: export KOVPN_RESULTS ?= $(CURDIR)/$(RESULTS_DIR)/check-vm.txt
check-vm:
	@scripts/install-deps.sh vm
	@mkdir -p $(RESULTS_DIR); [ "$(SUMMARY)" = no ] || rm -f $(KOVPN_RESULTS)
	@$(MAKE) --no-print-directory build || echo "FAIL build: module, addon and TypeScript" >> $(KOVPN_RESULTS)
	@KERNEL_SRC=$(KERNEL_SRC) tests/run-vm.sh $(VM_ARGS)
	@[ "$(SUMMARY)" = no ] || scripts/summarize.sh $(KOVPN_RESULTS)

check-vm-debug: export KOVPN_RESULTS ?= $(CURDIR)/$(RESULTS_DIR)/check-vm-debug.txt
check-vm-debug:
	@scripts/install-deps.sh debug
	@mkdir -p $(RESULTS_DIR); rm -f $(KOVPN_RESULTS)
	@tests/qemu/debug-vm.sh
	@scripts/summarize.sh $(KOVPN_RESULTS)

# Long adversarial runs: the control-channel fuzzer (FUZZ_SECONDS) and the packet injector
# with STRESS_COUNT bad packets at each data path's receiver (the userspace engine on the
# host, the module in one boot of the VM), every one counted; the genl fuzzer and the lifecycle
# torture of the module (tests/kmod/stress-suite.sh) in another boot.
STRESS_COUNT ?= 1000000
check-stress: export KOVPN_RESULTS ?= $(CURDIR)/$(RESULTS_DIR)/check-stress.txt
check-stress:
	@scripts/install-deps.sh vm
	@mkdir -p $(RESULTS_DIR); rm -f $(KOVPN_RESULTS)
	@$(MAKE) --no-print-directory build || echo "FAIL build: module, addon and TypeScript" >> $(KOVPN_RESULTS)
	@. tests/lib/results.sh; . tests/lib/run-program.sh; \
		FUZZ_SECONDS=$${FUZZ_SECONDS:-600} FUZZ_RSS_GROWTH_MB=$${FUZZ_RSS_GROWTH_MB:-128} run_program "stress: control-channel fuzzer" tests/interop/control-fuzz.test.sh; \
		(export KOVPN_DATAPATH=userspace KOVPN_INJECT_COUNT=$(STRESS_COUNT); \
			run_program "netns[userspace]: packet injector ($(STRESS_COUNT))" tests/netns/inject-test.sh); \
		run_program "vm: packet injector ($(STRESS_COUNT))" tests/qemu/run.sh --timeout 14400 $(VM_ARGS) -- \
			env KOVPN_DATAPATH=kernel KOVPN_INJECT_COUNT=$(STRESS_COUNT) tests/netns/inject-test.sh
	@tests/qemu/run.sh --timeout $${KOVPN_STRESS_TIMEOUT:-14400} $(VM_ARGS) -- tests/kmod/stress-suite.sh || true
	@scripts/summarize.sh $(KOVPN_RESULTS)

soak:
	@$(MAKE) --no-print-directory native ts
	@tests/soak/soak.sh

# --- demo and benchmarks ----------------------------------------------------------------

demo:
	@scripts/install-deps.sh host
	@$(MAKE) --no-print-directory native ts
	@scripts/demo.sh

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	@bench/run.sh
