# Makefile: builds irqlab (build/kernel.elf, build/irqlab.iso), runs it in QEMU, and tests it.
#
#   make            build the kernel and the GRUB ISO
#   make run        boot the ISO in QEMU (a lab in deterministic mode: the kernel directly), serial console
#                   on this terminal (Ctrl-A X quits)
#                   CPUS=4 ACCEL=tcg|kvm LAB=name VARIANT=v KARGS="key=value ..." DETERMINISTIC=1|0
#   make test       host unit tests + QEMU tests; ends with "N passed, M failed" (ONLY=pattern: a subset)
#   make fuzz       a long seeded fuzz campaign: command lines, ACPI tables, monitor input (N=1000 SEED=1)
#   make grade      score the labs' exercises (LAB=name: one lab); build/grade/results.json for Gradescope
#   make handout    write the student tree to build/handout (solutions replaced by their stubs)
#   make samples    rewrite the sample output on the lab pages from real runs (make test checks them)
#   make pictures   redraw the trace pictures on the lab pages from real runs (docs/trace.md)
#   make bench      the primitives' cycle costs as a table and a plot in build/bench (CPUS=8 BENCH_SAMPLES=101
#                   BENCH=all ACCEL=tcg|kvm; docs/bench.md)
#   make qemu-gdb   start QEMU halted with a gdb stub; then `make gdb` in another terminal
#   make gdb-lab    both in one terminal: QEMU halted in the background (LAB=, VARIANT=, CPUS=; serial
#                   console to SERIAL=build/gdb-lab/serial.log; a stall stays alive), gdb with
#                   the il-* commands (scripts/gdb/irqlab.py); quitting gdb stops QEMU
#   make deps       install the packages irqlab needs (run and test do this themselves)
#
# QEMU's flags, the GRUB configuration and the exit statuses live in one
# place, scripts/qemu.py, which every target here boots through.
#
# DETERMINISTIC=1 (the default with tcg) runs guest time from QEMU's
# instruction count: what a run prints no longer depends on how busy the
# host is (the same verdicts every run; at 1 CPU the same bytes; with more,
# QEMU's own threads can still shift timings by microseconds).
# DETERMINISTIC=0 runs the CPUs truly in parallel on host time (and is the
# default with kvm, and for `make run` without LAB=: under icount an idle
# machine skips ahead to its next timer at once, so waiting at the monitor
# prompt would keep a host core busy). docs/deterministic.md says more.

CPUS    ?= 4
ACCEL   ?= tcg
LAB     ?=
VARIANT ?=
KARGS   ?=
DETERMINISTIC ?= $(if $(filter kvm,$(ACCEL)),0,$(if $(LAB),1,$(if $(filter run qemu-gdb gdb-lab,$(MAKECMDGOALS)),0,1)))
export DETERMINISTIC

BUILD := build
comma := ,

# Quiet build lines ("CC kernel/main.c"); V=1 shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

CC      := gcc
LD      := ld
NM      := nm
NASM    := nasm
HOSTCC  := gcc

# Kernel C: freestanding, kernel code model (we run in the top 2 GiB), no red
# zone (interrupts push onto the stack below RSP), no SSE/x87 registers (the
# entry stubs do not save them), frame pointers and no sibling calls (so
# every backtrace shows every caller). -fno-toplevel-reorder keeps the
# registration sections (.ktests, .lab_variants, .monitor_cmds) in source order.
KCFLAGS := -std=c11 -ffreestanding -fno-pic -fno-pie -mcmodel=kernel -mno-red-zone \
           -mgeneral-regs-only -fno-stack-protector -fno-omit-frame-pointer \
           -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls \
           -fno-asynchronous-unwind-tables -fno-strict-aliasing \
           -fno-toplevel-reorder \
           -O2 -g -Wall -Wextra -Werror -I. -MMD -MP
NASMFLAGS := -f elf64 -g -F dwarf -Werror
LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
           --no-warn-rwx-segments -T linker.ld

HOSTCFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 -I. \
              -fsanitize=address,undefined -fno-sanitize-recover=all

C_SRCS   := $(wildcard arch/x86_64/*.c kernel/*.c labs/*/*.c drivers/*.c tests/kernel/*.c)
ASM_SRCS := $(wildcard boot/*.asm arch/x86_64/*.asm)
OBJS     := $(C_SRCS:%.c=$(BUILD)/%.o) $(ASM_SRCS:%.asm=$(BUILD)/%.o)

.PHONY: all run pictures test grade handout samples bench qemu-gdb gdb gdb-lab deps clean host-test check-deps lab-repeat lab-campaign FORCE
all: $(BUILD)/kernel.elf $(BUILD)/irqlab.iso

# ---------------------------------------------------------------- packages
# Tool -> Debian package. `make run` and `make test` install what is missing.
DEP_TOOLS := qemu-system-x86_64:qemu-system-x86 nasm:nasm grub-mkrescue:grub-common \
             xorriso:xorriso mformat:mtools gdb:gdb gcc:gcc ld:binutils python3:python3
# The host tools that draw plots run on Debian's own interpreter, where
# python3-matplotlib installs (a python3 earlier on PATH may lack it).
# Whether it is installed is asked of the import system without importing
# it: the import takes 0.3-0.6 s, and every make that runs or tests reads this.
PLOT_PY := /usr/bin/python3
export PLOT_PY
MISSING_PKGS = $(strip $(foreach d,$(DEP_TOOLS),$(if $(shell command -v $(word 1,$(subst :, ,$(d))) 2>/dev/null),,$(word 2,$(subst :, ,$(d))))) \
               $(if $(wildcard /usr/lib/grub/i386-pc/modinfo.sh),,grub-pc-bin) \
               $(if $(shell $(PLOT_PY) -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec("matplotlib"))' \
                     2>/dev/null && echo y),,python3-matplotlib))
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

deps:
	@missing="$(MISSING_PKGS)"; \
	if [ -n "$$missing" ]; then \
	    echo "irqlab: installing missing packages: $$missing"; \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
	    { echo "irqlab: could not install $$missing; install them by hand (Debian/Ubuntu: apt-get install $$missing)"; exit 1; }; \
	fi

check-deps:
	@$(if $(MISSING_PKGS),$(MAKE) --no-print-directory deps,true)

# ---------------------------------------------------------------- kernel
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/%.o: %.asm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $<")
	$(Q)$(NASM) $(NASMFLAGS) $< -o $@

# The kernel carries its own symbol table for backtraces (kernel/ksyms.h),
# made the way Linux makes kallsyms: link once with an empty table, list
# the text symbols, link again with the real table. The table goes into
# .rodata, after .text, so code addresses cannot move between the two links;
# boot/check-image.sh verifies that, and the layout the loaders need.
$(BUILD)/ksyms.empty.c: kernel/mksyms.sh
	@mkdir -p $(BUILD)
	$(Q)sh kernel/mksyms.sh $(NM) - $@

$(BUILD)/kernel.pass1.elf: $(OBJS) $(BUILD)/ksyms.empty.o linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms.empty.o

$(BUILD)/ksyms.c: $(BUILD)/kernel.pass1.elf kernel/mksyms.sh
	@$(if $(Q),echo "  KSYMS   $@")
	$(Q)sh kernel/mksyms.sh $(NM) $< $@

$(BUILD)/ksyms.o $(BUILD)/ksyms.empty.o: $(BUILD)/%.o: $(BUILD)/%.c
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/kernel.elf: $(OBJS) $(BUILD)/ksyms.o linker.ld boot/check-image.sh
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(LDFLAGS) -o $@ $(OBJS) $(BUILD)/ksyms.o
	$(Q)sh boot/check-image.sh $@ $(BUILD)/kernel.pass1.elf

# ---------------------------------------------------------------- GRUB ISO
# One menu entry per way to boot: the monitor, the self-tests, and one per
# lab variant (read from the labs' LAB_VARIANT lines); scripts/qemu.py
# writes grub.cfg. It boots the first entry at once.
QEMU_PY := python3 scripts/qemu.py
LAB_SRCS := $(wildcard labs/*/*.c)

$(BUILD)/irqlab.iso: $(BUILD)/kernel.elf $(LAB_SRCS) scripts/qemu.py
	@$(MAKE) --no-print-directory check-deps
	@echo "  ISO     $@"
	$(Q)$(QEMU_PY) --make-iso $@

# `make run` boots an ISO whose first (default) entry carries this command line.
# A lab in deterministic mode is different in two ways. It gets Linux's
# default detector thresholds (those KARGS does not set): its guest seconds
# are cheap, and the timings are Linux's. And it boots the kernel directly
# (qemu -kernel), so that it prints what the lab page shows: GRUB reads its CD
# through QEMU's asynchronous block layer, so under GRUB the kernel starts at
# a virtual time that moves by tens of milliseconds from run to run, and with
# two CPUs or more that changes the output (docs/deterministic.md).
RUN_CMDLINE := $(strip $(if $(LAB),lab=$(LAB)) $(if $(VARIANT),variant=$(VARIANT)) $(KARGS))
RUN_LAB_DETERMINISTIC := $(and $(LAB),$(filter 1,$(DETERMINISTIC)))
RUN_THRESHOLDS := $(if $(RUN_LAB_DETERMINISTIC),--linux-thresholds)

$(BUILD)/run/cmdline: FORCE
	@mkdir -p $(dir $@)
	@echo '$(RUN_THRESHOLDS) $(RUN_CMDLINE)' | cmp -s - $@ || echo '$(RUN_THRESHOLDS) $(RUN_CMDLINE)' > $@

$(BUILD)/run.iso: $(BUILD)/kernel.elf $(BUILD)/run/cmdline $(LAB_SRCS) scripts/qemu.py
	@echo "  ISO     $@"
	$(Q)$(QEMU_PY) --make-iso $@ $(RUN_THRESHOLDS) -- $(RUN_CMDLINE)

# ---------------------------------------------------------------- QEMU
ifeq ($(filter $(ACCEL),tcg kvm),)
$(error ACCEL=$(ACCEL) is not valid; use ACCEL=tcg (default) or ACCEL=kvm)
endif
ifeq ($(filter $(DETERMINISTIC),0 1),)
$(error DETERMINISTIC=$(DETERMINISTIC) is not valid; use 1 (icount: guest time counts instructions) or 0 (real parallelism))
endif
ifeq ($(filter $(CPUS),1 2 3 4 5 6 7 8),)
$(error CPUS=$(CPUS) is not valid; use 1 to 8)
endif
GDBPORT := $(shell expr 26000 + $$(id -u) % 5000)
NPROC   := $(shell nproc 2>/dev/null || echo 1)

# Fails only when the run itself went wrong (an oops, a refused boot, a
# hang): a lab's verdict, either way, is a run that went right.
# The kernel's interrupt trace goes to QEMU's debugcon, RUN_TRACE (a lab
# writes it at the end of its run; the monitor's `trace dump` at any time);
# scripts/trace.py then draws it (.svg, .png) and exports it (.json, for
# Perfetto), next to it, and prints the paths.
RUN_TRACE := $(BUILD)/trace/$(if $(LAB),$(LAB)$(if $(VARIANT),-$(VARIANT)),monitor)
run: check-deps $(if $(RUN_LAB_DETERMINISTIC),$(BUILD)/kernel.elf,$(BUILD)/run.iso)
	@echo "irqlab: booting with $(CPUS) CPUs ($(ACCEL), $(if $(filter 1,$(DETERMINISTIC)),deterministic,parallel)$(if $(RUN_THRESHOLDS),$(comma) Linux's detector thresholds$(comma) the kernel directly)); quit QEMU with Ctrl-A then X"
	@mkdir -p $(dir $(RUN_TRACE))
	@rm -f $(RUN_TRACE).txt
	@$(QEMU_PY) --interactive $(if $(RUN_LAB_DETERMINISTIC),$(RUN_THRESHOLDS),--iso $(BUILD)/run.iso) --cpus $(CPUS) --accel $(ACCEL) --trace $(RUN_TRACE).txt -- $(if $(RUN_LAB_DETERMINISTIC),$(RUN_CMDLINE))
	@if [ -s $(RUN_TRACE).txt ]; then \
	    echo "irqlab: trace: $(RUN_TRACE).txt"; \
	    $(PLOT_PY) scripts/trace.py $(RUN_TRACE).txt --out $(RUN_TRACE) --title "$(or $(LAB),monitor)$(if $(VARIANT),/$(VARIANT)), $(CPUS) CPUs" && \
	    echo "irqlab: zoom in with: $(PLOT_PY) scripts/trace.py $(RUN_TRACE).txt --png FILE --from MS --to MS (or --focus ipi)"; \
	fi

# The two trace pictures on the stall lab's page, from real runs (2 CPUs, deterministic,
# the lab's own thresholds): lock_spin whole, broken_restore around its IPI.
PICTURES := $(BUILD)/trace/pictures
pictures: check-deps $(BUILD)/kernel.elf
	@mkdir -p $(PICTURES)
	@for v in lock_spin:41 broken_restore:43; do \
	    name=$${v%%:*}; want=$${v##*:}; \
	    $(QEMU_PY) --cpus 2 --timeout 120 --log $(PICTURES)/$$name.log --trace $(PICTURES)/$$name.txt \
	        lab=stall variant=$$name > /dev/null; status=$$?; \
	    [ $$status = $$want ] || { echo "irqlab: stall/$$name ended with status $$status, not $$want: see $(PICTURES)/$$name.log"; exit 1; }; \
	    $(PLOT_PY) scripts/trace.py $(PICTURES)/$$name.txt --png labs/stall/trace-$$name.png \
	        --title "stall/$$name, 2 CPUs" $$([ $$name = broken_restore ] && echo --focus ipi) || exit 1; \
	done

qemu-gdb: check-deps $(BUILD)/run.iso
	@echo "irqlab: QEMU is halted, waiting for gdb on port $(GDBPORT)."
	@echo "        In another terminal, in this directory: make gdb"
	@$(QEMU_PY) --interactive --iso $(BUILD)/run.iso --cpus $(CPUS) --accel $(ACCEL) --gdb $(GDBPORT)

# gdb with the toolkit (scripts/gdb/irqlab.py); says at once when no QEMU listens (scripts/gdb_lab.py).
gdb: $(BUILD)/kernel.elf
	@python3 scripts/gdb_lab.py attach --port $(GDBPORT)

# QEMU (direct kernel boot, halted, detector_stop=off) in the background and gdb in the foreground.
SERIAL ?= $(BUILD)/gdb-lab/serial.log
gdb-lab: check-deps $(BUILD)/kernel.elf
	@python3 scripts/gdb_lab.py lab --cpus $(CPUS) --accel $(ACCEL) --serial $(SERIAL) $(RUN_THRESHOLDS) -- $(RUN_CMDLINE)

# ---------------------------------------------------------------- tests
-include $(wildcard tests/host/*.mk)

HOST_BINS := $(HOST_TESTS:%=$(BUILD)/host/test_%)
.SECONDEXPANSION:
$(BUILD)/host/test_%: $$(host_$$*_SRCS) $$(wildcard tests/host/*.h kernel/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) $(host_$*_SRCS) -o $@

# Writes ACPI tables, good and broken, for the bad-MADT boots in tests/checks/boot.toml.
$(BUILD)/host/acpi-fixture: tests/acpi-fixture.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) $< -o $@

ACPI_FIXTURES := $(foreach k,good bad-madt-checksum no-madt bad-madt-entry,$(BUILD)/acpi/$(k).bin)
# Malformed MADTs that pass their checksums (issue 15): each refused by name, or (no IRQ 4 route) a polled console.
ACPI_FIXTURES += $(foreach k,ioapic-at-lapic lapic-zero lapic-moved ioapic-zero ioapic-absent ioapic-in-ram no-ioapic gsi-base-high,\
                   $(BUILD)/acpi/$(k).bin)
# CPUs no IPI can reach in xAPIC mode, and an IRQ 4 route COM1 is not wired to (the fuzz campaign's failures).
ACPI_FIXTURES += $(BUILD)/acpi/x2apic-high-ids.bin $(BUILD)/acpi/com1-gsi-23.bin
$(BUILD)/acpi/%.bin: $(BUILD)/host/acpi-fixture
	@mkdir -p $(dir $@)
	$(Q)$< $* 0x4000000 > $@

host-test: $(HOST_BINS)
	@for t in $(HOST_BINS); do $$t; done

# Every check in tests/checks/ and labs/*/checks*.toml, then the student
# tree's grade (scripts/test.py). ONLY=pattern runs the checks whose names match.
# The packages first, then everything the tests need, built on every core.
test: check-deps
	@$(MAKE) --no-print-directory -j$(NPROC) all $(HOST_BINS) $(ACPI_FIXTURES)
	@ONLY="$(ONLY)" python3 scripts/test.py $(HOST_BINS)

# The labs' graded checks, gradelib-style, ending "Score: X/Y" (scripts/grade.py).
grade: check-deps $(BUILD)/kernel.elf
	@python3 scripts/grade.py --lab "$(LAB)"

# The lab pages' sample output, rewritten from real `make run` boots (scripts/samples.py).
samples: check-deps $(BUILD)/kernel.elf
	@python3 scripts/samples.py

# The student tree: solutions replaced by their stubs, teacher-only files left out.
handout:
	@python3 scripts/handout.py $(BUILD)/handout

# The primitives' cycle costs (kernel/bench.c): one boot with bench=$(BENCH) in parallel mode (the TSC then
# follows the host's clock; under icount it would count instructions), the table printed and written with a
# plot to build/bench/bench.{txt,json,png,svg} by scripts/bench.py. CPUS defaults to 8 here, so that the
# shootdown rows go to 1..7 CPUs. ACCEL=kvm measures on KVM only. docs/bench.md.
#   make bench CPUS=8 BENCH_SAMPLES=101 BENCH=all
BENCH ?= all
BENCH_SAMPLES ?= 101
BENCH_CPUS = $(if $(filter command line environment,$(origin CPUS)),$(CPUS),8)
# Without ACCEL= it measures under TCG, then under KVM too where /dev/kvm exists (build/bench/kvm/).
BENCH_ARGS = --cpus $(BENCH_CPUS) --bench "$(BENCH)" --samples "$(BENCH_SAMPLES)"
bench: check-deps $(BUILD)/kernel.elf
	@$(PLOT_PY) scripts/bench.py $(BENCH_ARGS) --accel $(ACCEL) --out $(BUILD)/bench
	@if [ "$(origin ACCEL)" = file ]; then \
	    if [ -e /dev/kvm ]; then $(PLOT_PY) scripts/bench.py $(BENCH_ARGS) --accel kvm --out $(BUILD)/bench/kvm; \
	    else echo "irqlab: bench: no /dev/kvm on this machine: KVM not measured (the numbers above are TCG's)"; fi; \
	fi

# Run one lab variant N times in a row and count the verdicts (determinism check):
#   make lab-repeat LAB=stall VARIANT=real_restore CPUS=4 N=20
N ?= 20
lab-repeat: check-deps $(BUILD)/kernel.elf
	@python3 scripts/lab_repeat.py --cpus $(CPUS) -n $(N) "$(LAB)" "$(VARIANT)"

# Every lab variant N times at each CPU count, two QEMUs at a time (JOBS=1: one),
# with a busy loop on every host core when HOG=1; fails if any variant's runs disagree:
#   make lab-campaign N=20 CAMPAIGN_CPUS="2 4" HOG=1
CAMPAIGN_CPUS ?= 2 4
lab-campaign: check-deps $(BUILD)/kernel.elf
	@python3 scripts/lab_campaign.py -n $(N) --cpus $(CAMPAIGN_CPUS) $(if $(filter 1,$(HOG)),--hog) \
	    $(if $(ONLY),--only "$(ONLY)") $(if $(JOBS),--jobs $(JOBS))

clean:
	rm -rf $(BUILD)

FORCE:

-include $(OBJS:.o=.d)

# A long seeded fuzz campaign (scripts/fuzz.py), one QEMU at a time: N mutated
# command lines, 3N/10 mutated ACPI tables and N monitor lines (default N=1000,
# not lab-repeat's 20); the same SEED makes the same cases. make test runs a
# small fixed slice of it.
#   make fuzz N=1000 SEED=1
SEED ?= 1
FUZZ_N = $(if $(filter command line environment,$(origin N)),$(N),1000)
.PHONY: fuzz
fuzz: check-deps $(BUILD)/kernel.elf $(BUILD)/host/acpi-fixture
	@python3 scripts/fuzz.py --seed $(SEED) --cmdlines $(FUZZ_N) --tables $$(( $(FUZZ_N) * 3 / 10 )) \
	    --monitor-lines $(FUZZ_N)
