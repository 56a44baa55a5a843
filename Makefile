# Makefile: builds irqlab (build/kernel.elf, build/irqlab.iso), runs it in QEMU, and tests it.
#
#   make            build the kernel and the GRUB ISO
#   make run        boot the ISO in QEMU, serial console on this terminal (Ctrl-A X quits)
#                   CPUS=4 ACCEL=tcg|kvm LAB=name VARIANT=v KARGS="key=value ..."
#   make test       host unit tests + QEMU tests; ends with "N passed, M failed"
#   make qemu-gdb   start QEMU halted with a gdb stub; then `make gdb` in another terminal
#   make deps       install the packages irqlab needs (run and test do this themselves)

CPUS    ?= 4
ACCEL   ?= tcg
LAB     ?=
VARIANT ?=
KARGS   ?=

BUILD := build

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

C_SRCS   := $(wildcard arch/x86_64/*.c kernel/*.c kernel/labs/*.c drivers/*.c tests/kernel/*.c)
ASM_SRCS := $(wildcard boot/*.asm arch/x86_64/*.asm)
OBJS     := $(C_SRCS:%.c=$(BUILD)/%.o) $(ASM_SRCS:%.asm=$(BUILD)/%.o)

.PHONY: all run test qemu-gdb gdb deps clean host-test check-deps lab-repeat FORCE
all: $(BUILD)/kernel.elf $(BUILD)/irqlab.iso

# ---------------------------------------------------------------- packages
# Tool -> Debian package. `make run` and `make test` install what is missing.
DEP_TOOLS := qemu-system-x86_64:qemu-system-x86 nasm:nasm grub-mkrescue:grub-common \
             xorriso:xorriso mformat:mtools gdb:gdb gcc:gcc ld:binutils
MISSING_PKGS = $(strip $(foreach d,$(DEP_TOOLS),$(if $(shell command -v $(word 1,$(subst :, ,$(d))) 2>/dev/null),,$(word 2,$(subst :, ,$(d))))) \
               $(if $(wildcard /usr/lib/grub/i386-pc/modinfo.sh),,grub-pc-bin))
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
# One menu entry per way to boot: the monitor, the self-tests, and (added by
# the lab issues) each lab and variant. GRUB_TIMEOUT=0 boots the first at once.
GRUB_TIMEOUT ?= 0
# The labs' entries come from their LAB_VARIANT(lab, variant, ...) lines
# (kernel/lab.h). OPEN_PAREN keeps make from counting the regex's "(".
OPEN_PAREN := (
LAB_VARIANTS := $(shell sed -n 's/^LAB_VARIANT$(OPEN_PAREN)\([a-z0-9_]*\), *\([a-z0-9_]*\),.*/\1\/\2/p' kernel/labs/*.c 2>/dev/null)
GRUB_ENTRIES := "irqlab: monitor|" "irqlab: self-tests|test=all" \
                $(foreach lv,$(LAB_VARIANTS),"irqlab lab: $(lv)|lab=$(word 1,$(subst /, ,$(lv))) variant=$(word 2,$(subst /, ,$(lv)))")

define grub_cfg
	{ echo "serial --unit=0 --speed=115200"; \
	  echo "terminal_input serial"; echo "terminal_output serial"; \
	  echo "set timeout=$(GRUB_TIMEOUT)"; echo "set default=0"; \
	  for e in $(1) $(GRUB_ENTRIES); do \
	      title="$${e%%|*}"; args="$${e#*|}"; \
	      echo "menuentry \"$$title\" {"; echo "    multiboot2 /boot/kernel.elf $$args"; echo "}"; \
	  done; } > $(2)
endef

$(BUILD)/iso/boot/grub/grub.cfg: Makefile $(wildcard kernel/labs/*.c)
	@mkdir -p $(dir $@)
	@$(call grub_cfg,,$@)

$(BUILD)/irqlab.iso: $(BUILD)/kernel.elf $(BUILD)/iso/boot/grub/grub.cfg
	@$(MAKE) --no-print-directory check-deps
	@echo "  ISO     $@"
	$(Q)cp $(BUILD)/kernel.elf $(BUILD)/iso/boot/kernel.elf
	$(Q)grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/iso 2>$(BUILD)/grub-mkrescue.log || \
	    { cat $(BUILD)/grub-mkrescue.log; exit 1; }

# `make run` boots an ISO whose first (default) entry carries this command line.
RUN_CMDLINE := $(strip $(if $(LAB),lab=$(LAB)) $(if $(VARIANT),variant=$(VARIANT)) $(KARGS))

$(BUILD)/run/cmdline: FORCE
	@mkdir -p $(dir $@)
	@echo '$(RUN_CMDLINE)' | cmp -s - $@ || echo '$(RUN_CMDLINE)' > $@

$(BUILD)/run.iso: $(BUILD)/kernel.elf $(BUILD)/run/cmdline
	@mkdir -p $(BUILD)/run/iso/boot/grub
	@$(call grub_cfg,"irqlab: $(or $(RUN_CMDLINE),monitor)|$(RUN_CMDLINE)",$(BUILD)/run/iso/boot/grub/grub.cfg)
	@echo "  ISO     $@"
	$(Q)cp $(BUILD)/kernel.elf $(BUILD)/run/iso/boot/kernel.elf
	$(Q)grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/run/iso 2>$(BUILD)/grub-mkrescue.log || \
	    { cat $(BUILD)/grub-mkrescue.log; exit 1; }

# ---------------------------------------------------------------- QEMU
ifeq ($(ACCEL),kvm)
QEMU_ACCEL := -accel kvm
else ifeq ($(ACCEL),tcg)
QEMU_ACCEL := -accel tcg
else
$(error ACCEL=$(ACCEL) is not valid; use ACCEL=tcg (default) or ACCEL=kvm)
endif
ifeq ($(filter $(CPUS),1 2 3 4 5 6 7 8),)
$(error CPUS=$(CPUS) is not valid; use 1 to 8)
endif

QEMU_FLAGS := -m 128M -smp $(CPUS) $(QEMU_ACCEL) -no-reboot \
              -device isa-debug-exit,iobase=0xf4,iosize=0x04
GDBPORT := $(shell expr 26000 + $$(id -u) % 5000)

run: check-deps $(BUILD)/run.iso
	@echo "irqlab: booting with $(CPUS) CPUs ($(ACCEL)); quit QEMU with Ctrl-A then X"
	@qemu-system-x86_64 $(QEMU_FLAGS) -nographic -cdrom $(BUILD)/run.iso; \
	    status=$$?; \
	    case $$status in \
	        0|33) ;; \
	        35) echo "irqlab: QEMU exited with status 35: a test failed or the kernel oopsed" ;; \
	        37) echo "irqlab: QEMU exited with status 37: the boot stopped (bad boot information or command line)" ;; \
	        39) echo "irqlab: QEMU exited with status 39: a hang detector stopped the machine" ;; \
	        41) echo "irqlab: QEMU exited with status 41: the lab reproduced its bug" ;; \
	        43) echo "irqlab: QEMU exited with status 43: the lab ran and the bug did not happen" ;; \
	        *)  echo "irqlab: QEMU exited with status $$status" ;; \
	    esac

qemu-gdb: check-deps $(BUILD)/run.iso
	@echo "irqlab: QEMU is halted, waiting for gdb on port $(GDBPORT)."
	@echo "        In another terminal, in this directory: make gdb"
	qemu-system-x86_64 $(QEMU_FLAGS) -nographic -cdrom $(BUILD)/run.iso -S -gdb tcp::$(GDBPORT)

gdb: $(BUILD)/kernel.elf
	gdb -q $(BUILD)/kernel.elf -ex "target remote localhost:$(GDBPORT)"

# ---------------------------------------------------------------- tests
-include $(wildcard tests/host/*.mk)

HOST_BINS := $(HOST_TESTS:%=$(BUILD)/host/test_%)
.SECONDEXPANSION:
$(BUILD)/host/test_%: $$(host_$$*_SRCS) $$(wildcard tests/host/*.h kernel/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) $(host_$*_SRCS) -o $@

# Writes ACPI tables, good and broken, for the bad-MADT boots in tests/qemu-suite.sh.
$(BUILD)/host/acpi-fixture: tests/acpi-fixture.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) $< -o $@

host-test: $(HOST_BINS)
	@for t in $(HOST_BINS); do $$t; done

test: check-deps all $(HOST_BINS) $(BUILD)/host/acpi-fixture
	@bash tests/run-all.sh $(HOST_BINS)

# Run one lab variant N times in a row and count the verdicts (determinism check):
#   make lab-repeat LAB=stall VARIANT=real_restore CPUS=4 N=20
N ?= 20
lab-repeat: check-deps $(BUILD)/kernel.elf
	@bash tests/lab-repeat.sh "$(LAB)" "$(VARIANT)" "$(CPUS)" "$(N)"

clean:
	rm -rf $(BUILD)

FORCE:

-include $(OBJS:.o=.d)
