# lvsd: build, test (three tiers), demo, bench.
#   make test   unit (race) + bounded fuzz + host netns tier (root) + VM tier (root, QEMU)
#   make demo   the seed-001 lab, narrated, inside the VM
SHELL     := /bin/bash
GO        ?= go
BIN       := $(CURDIR)/bin
LVSD      := $(BIN)/lvsd
VMRUN     := $(BIN)/lvsd-vm
DEMO      := $(BIN)/lvsd-demo
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
FUZZTIME  ?= 10s
# make bench: false-failover soak length, and an optional realtime priority
# for both daemons in it (empty: normal scheduling, the defaults).
BENCH_SOAK    ?= 5m
BENCH_SOAK_RT ?=
STATICCHECK_VERSION ?= v0.8.2
# IPVS benchmark sizes (services x 10 real servers); ipvsadm and keepalived
# run up to 10000, larger sizes (e.g. 50000) are lvsd alone.
BENCH_IPVS_SIZES ?= 1000,10000

# Debian packages the tests and the demo need (installed by `make deps`).
APT_PACKAGES := iproute2 iptables ipvsadm keepalived tcpdump qemu-system-x86 linux-image-amd64 busybox-static kmod systemd mariadb-server mariadb-client chromium tshark lintian dnsmasq-base

.PHONY: install all build test test-unit test-fuzz test-host test-vm lint demo bench deps clean docs deb

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(LVSD) ./cmd/lvsd
	$(GO) build -o $(VMRUN) ./integration/cmd/lvsd-vm
	$(GO) build -o $(DEMO) ./integration/cmd/lvsd-demo

test: lint test-unit test-fuzz test-host test-vm

test-unit:
	$(GO) test -race -count=1 ./...

# Every fuzz target runs for FUZZTIME; .ci/fuzz says why it does not trust
# go test's exit code alone (a coordinator race at the -fuzztime boundary).
test-fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash .ci/fuzz

# Host tier: root, network namespaces on this kernel (no IPVS needed).
test-host: build
	LVSD_BIN=$(LVSD) $(GO) test -count=1 -tags integration -v -timeout 15m ./integration/ ./rules/ ./vrrp/ ./cmd/lvsd/

# VM tier: everything that needs kernel IPVS, inside a QEMU VM.
test-vm: build
	LVSD_BIN=$(LVSD) $(GO) test -count=1 -tags vm -v -timeout 20m -exec $(VMRUN) ./ipvs/ ./integration/
	$(GO) test -count=1 -tags vm_host -v -timeout 10m ./integration/vm/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags vm ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) -tags integration,vm,vm_host ./...

demo: deps build
	$(VMRUN) $(DEMO) -lvsd $(LVSD)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	LVSD_BIN=$(LVSD) LVSD_BENCH_FAILOVER=1 $(GO) test -count=1 -tags integration -v -timeout 30m -run TestFailoverBenchmark ./integration/
	LVSD_BIN=$(LVSD) LVSD_BENCH_SOAK=$(BENCH_SOAK) LVSD_BENCH_SOAK_RT=$(BENCH_SOAK_RT) $(GO) test -count=1 -tags integration -v -timeout 30m -run TestFailoverSoak ./integration/
	LVSD_BIN=$(LVSD) LVSD_BENCH_CHECKS=1 $(GO) test -count=1 -tags integration -v -timeout 10m -run 'TestCheckBenchmark(TCP|MySQL)' ./integration/
	LVSD_BIN=$(LVSD) LVSD_BENCH_CHECKS=1 $(GO) test -count=1 -tags vm -v -timeout 15m -run TestCheckBenchmarkKeepalived -exec $(VMRUN) ./integration/
	LVSD_BIN=$(LVSD) LVSD_BENCH_IPVS=1 LVSD_BENCH_IPVS_SIZES=$(BENCH_IPVS_SIZES) $(GO) test -count=1 -tags vm -v -timeout 90m -run TestIPVSBenchmark -exec "$(VMRUN) -mem 2048" ./integration/

deps:
	@if ! command -v ipvsadm >/dev/null || ! command -v keepalived >/dev/null || ! command -v qemu-system-x86_64 >/dev/null \
	   || ! command -v tcpdump >/dev/null || ! test -x /usr/sbin/mariadbd || ! command -v mariadb >/dev/null || ! command -v systemd-analyze >/dev/null || ! command -v chromium >/dev/null || ! command -v tshark >/dev/null || ! command -v lintian >/dev/null || ! ls /boot/vmlinuz-* >/dev/null 2>&1 || ! test -x /bin/busybox || ! test -x /usr/sbin/dnsmasq; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
	fi

# install: the binary, the systemd units and the example configs (never
# overwriting a config already there). DESTDIR for packaging.
DESTDIR   ?=
SBINDIR   ?= /usr/sbin
UNITDIR   ?= /lib/systemd/system
CONFDIR   ?= /etc/lvsd
DOCDIR    ?= /usr/share/doc/lvsd
install: build
	install -D -m 0755 $(LVSD) $(DESTDIR)$(SBINDIR)/lvsd
	install -D -m 0644 contrib/systemd/lvsd-director.service $(DESTDIR)$(UNITDIR)/lvsd-director.service
	install -D -m 0644 contrib/systemd/lvsd-agent.service $(DESTDIR)$(UNITDIR)/lvsd-agent.service
	install -d -m 0755 $(DESTDIR)$(CONFDIR)
	test -e $(DESTDIR)$(CONFDIR)/director.hcl || install -m 0600 examples/seed-001-director.hcl $(DESTDIR)$(CONFDIR)/director.hcl
	test -e $(DESTDIR)$(CONFDIR)/agent.hcl || install -m 0600 examples/seed-001-agent.hcl $(DESTDIR)$(CONFDIR)/agent.hcl
	install -D -m 0644 docs/operations.md $(DESTDIR)$(DOCDIR)/operations.md
	install -D -m 0644 docs/configuration.md $(DESTDIR)$(DOCDIR)/configuration.md
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

# deb: bin/lvsd_<version>_<arch>.deb from what `make install` puts in a
# scratch root (the files are listed once, above) plus packaging/deb
# (control, conffiles = all of /etc/lvsd, maintainer scripts). DEB_OUT
# chooses the directory.
DEB_OUT ?= $(BIN)
deb: build
	rm -rf $(BIN)/debroot
	$(MAKE) --no-print-directory install DESTDIR=$(BIN)/debroot VERSION=$(VERSION)
	packaging/deb/build-deb.sh $(BIN)/debroot $(DEB_OUT) $(VERSION) $$($(GO) env GOARCH)

# docs/configuration.md is generated from the registry in conf/docref.go;
# conf's TestReferenceUpToDate fails when it is stale.
docs:
	$(GO) run ./conf/cmd/gendoc -o docs/configuration.md

clean:
	rm -rf $(BIN)
