# tests/qemu-suite.sh: the list of QEMU runs in `make test` (sourced by tests/run-all.sh, which defines run).
#
# Each line boots the kernel once through tests/qemu-run.sh. Add a run here
# when you add a feature; see the options at the top of tests/qemu-run.sh.
Q=tests/qemu-run.sh

# In-kernel KTAP self-tests at every CPU count this issue supports.
for cpus in ${CPUS_LIST:-1 2 4 8}; do
    run $Q "ktest-cpus$cpus" --cpus "$cpus" --ktap -- test=all
done

# The GRUB path: the ISO boots through multiboot2 and runs the same tests.
run $Q ktest-grub --boot iso --cpus 2 --ktap --expect "multiboot2 from 'GRUB" -- test=all

# Lock and irqflags debugging, provoked on purpose: Linux's headlines, and the irq event stamps.
run $Q spinlock-reports --cpus 2 --ktap --expect "BUG: spinlock recursion on CPU#0, swapper/0/0" \
    --expect "BUG: spinlock already unlocked on CPU#0, swapper/0/0" --expect "BUG: spinlock wrong CPU on CPU#1, swapper/1/0" \
    --expect " lock: buggy_lock, .magic: dead4ead, .owner_cpu: 0, .owner_ip: ktest_fn_spinlock_debug_reports+" \
    -- test=spinlock_debug_reports
run $Q irqflags-bogus-restore --ktap --expect "raw_local_irq_restore() called with IRQs enabled" \
    -- test=irqflags_bogus_restore_warns
run $Q irqflags-trace-events --ktap --expect "irq event stamp: " \
    --expect "hardirqs last  enabled at (" --expect "hardirqs last disabled at (" -- test=irqflags_trace_records_sites

# Deliberate faults: each must print its own headline and end in a failure exit.
run $Q fault-divide --exit fail --expect "Oops: divide error: 0000 [#1]" --expect "fault_divide" -- test=fault_divide
run $Q fault-ud     --exit fail --expect "Oops: invalid opcode: 0000 [#1]" --expect "fault_invalid_opcode" -- test=fault_invalid_opcode
run $Q fault-gp     --exit fail --expect "Oops: general protection fault: 0000 [#1]" -- test=fault_general_protection
run $Q fault-pf     --exit fail --expect "BUG: unable to handle page fault for address: 00000000deadb000" \
                                --expect "#PF: error_code(0x0000) - not-present page" -- test=fault_page_fault
run $Q fault-stack  --exit fail --expect "BUG: TASK stack guard page was hit at" \
                                --expect "Oops: kernel stack overflow (double-fault)" -- test=fault_stack_overflow

# Bad command lines: a clear message naming what is valid; never a crash or a hang.
run $Q cmdline-unknown-key --exit pass --expect "cmdline: unknown parameter 'bogus'; valid parameters: lab, variant, test, acpi_rsdp, x2apic, loglevel" \
                           --reject "Oops" -- bogus=1 test=boot_sanity
run $Q cmdline-bad-loglevel --exit pass --expect "cmdline: bad value 'high' for 'loglevel'; valid: 0-8" -- loglevel=high test=boot_sanity
run $Q cmdline-unknown-test --exit badboot --expect "unknown test 'nosuch'; valid: all," -- test=nosuch
run $Q cmdline-unknown-lab  --exit badboot --expect "unknown lab 'nosuch'" -- lab=nosuch

# ACPI: missing tables, and broken ones placed in RAM by QEMU's loader device
# (tests/acpi-fixture.c) and chosen with acpi_rsdp=: each refused by name.
run $Q acpi-none --exit badboot --qemu-arg -machine --qemu-arg acpi=off \
    --expect "ACPI: no RSDP: none from the boot loader, none in the EBDA or at 0xE0000-0xFFFFF" -- test=boot_sanity
fixture_base=0x4000000
for kind in good bad-madt-checksum no-madt bad-madt-entry; do
    build/host/acpi-fixture $kind $fixture_base > build/test-logs/acpi-$kind.bin
done
acpi_fixture() { echo "loader,file=build/test-logs/acpi-$1.bin,addr=$fixture_base,force-raw=on"; }
run $Q acpi-fixture-good --exit pass --qemu-arg -device --qemu-arg "$(acpi_fixture good)" \
    --expect "ACPI: RSDP revision 0, OEM 'IRQLAB'" -- acpi_rsdp=$fixture_base test=boot_sanity
run $Q acpi-bad-madt-checksum --exit badboot --qemu-arg -device --qemu-arg "$(acpi_fixture bad-madt-checksum)" \
    --expect "ACPI: MADT (APIC) checksum is 0x5a, should sum to 0; table refused" -- acpi_rsdp=$fixture_base test=boot_sanity
run $Q acpi-no-madt --exit badboot --qemu-arg -device --qemu-arg "$(acpi_fixture no-madt)" \
    --expect "ACPI: no MADT (APIC) table in the RSDT" -- acpi_rsdp=$fixture_base test=boot_sanity
run $Q acpi-bad-madt-entry --exit badboot --qemu-arg -device --qemu-arg "$(acpi_fixture bad-madt-entry)" \
    --expect "ACPI: MADT entry at offset 44 has length 0; table refused" -- acpi_rsdp=$fixture_base test=boot_sanity

# The monitor: commands typed on the serial console, then poweroff. The
# first byte goes to a leading newline: serial_init() clears the UART FIFO,
# and with it whatever QEMU had already delivered.
printf '\nhelp\ninfo\nbogus\nlabs\nhelx\x7fp\npoweroff\n' > build/test-logs/monitor.input
run $Q monitor --exit pass --input build/test-logs/monitor.input \
    --expect "irqlab> " --expect "reboot    restart" --expect "unknown command 'bogus'; type 'help' for the list" \
    --expect "usable" --expect "Command line:" --expect "irqlab: power off"
printf '\nreboot\n' > build/test-logs/reboot.input
run $Q monitor-reboot --exit reboot --input build/test-logs/reboot.input --expect "irqlab: restarting system"

# Paging services and TLB shootdown (arch/x86_64/tlb.c). With 8 CPUs, after a
# local-only flush the 7 others still read the old page through their stale
# TLB entries (the test requires it under TCG), and after flush_tlb_range()
# none does; no flush may run with IRQs on.
run $Q tlb-hazard-cpus8 --cpus 8 --ktap --expect "other CPUs still read the old page" \
                        --reject "WARNING" -- test=tlb_shootdown_hazard
printf '\nmem\ntlb\npoweroff\n' > build/test-logs/mem-tlb.input
run $Q monitor-mem-tlb --cpus 2 --exit pass --input build/test-logs/mem-tlb.input \
    --expect "Pages: " --expect "in use" --expect "CPU      local     remote       full" --expect "irqlab: power off"

# AP bring-up (arch/x86_64/smpboot.c): nr_cpus= limits the CPUs started;
# asking for more than the MADT lists stops the boot with a clear message;
# the monitor's `cpus` lists each MADT CPU with its state.
run $Q smp-nr-cpus-2 --cpus 4 --ktap --expect "smp: Brought up 1 node, 2 CPUs" -- nr_cpus=2 test=all
run $Q smp-nr-cpus-too-many --cpus 4 --exit badboot \
    --expect "smpboot: nr_cpus=8 asks for more CPUs than the MADT lists (4); valid: 1-4" -- nr_cpus=8 test=all
printf '\ncpus\npoweroff\n' > build/test-logs/cpus.input
run $Q monitor-cpus --cpus 4 --exit pass --input build/test-logs/cpus.input \
    --expect "CPU  APIC id  mode    state           boot CPU  up after SIPI" \
    --expect "0    0        xAPIC   online          yes" --expect "2    2        xAPIC   online          no" \
    --expect "-    3        -       not started     no" -- nr_cpus=3

# Time (kernel/time.c, kernel/hrtimer.c, arch/x86_64/apic_timer.c): the
# calibration lines; hz= sets the tick rate (time_tick_rate checks it) and
# refuses values out of range; the hang guard prints Linux's message; the
# monitor's `time`.
run $Q time-hz1000 --cpus 2 --ktap --expect "tsc: calibrated against the PIT:" \
    --expect "apic: LAPIC timer:" --expect "# time_tick_rate: HZ=1000," -- hz=1000 test=time_tick_rate
run $Q time-hz10 --cpus 2 --ktap --expect "# time_tick_rate: HZ=10," -- hz=10 test=time_tick_rate
run $Q time-bad-hz --exit pass --expect "cmdline: bad value '5' for 'hz'; valid: 10-1000" \
    --expect "# time_tick_rate: HZ=100," -- hz=5 test=time_tick_rate
run $Q time-hang-guard --ktap --expect "hrtimer: interrupt took" -- test=hrtimer_hang_guard
printf '\ntime\npoweroff\n' > build/test-logs/time.input
run $Q monitor-time --cpus 2 --exit pass --input build/test-logs/time.input \
    --expect "jiffies:     " --expect "(HZ=100, a tick every 10000000 ns)" --expect "apic timer:  " \
    --expect "CPU        ticks  hrtimers  hangs" --expect "irqlab: power off"

# The lock validator (kernel/lockdep.c). Its self-test matrix prints each of
# Linux's headlines (some from a real interrupt: a self-IPI on vector 0x42)
# and the summary line; lockdep=off turns it off; the monitor shows the
# classes with their usage and dependencies, and the locks each CPU holds.
run $Q lockdep-selftest --cpus 2 --ktap \
    --expect "WARNING: possible recursive locking detected" \
    --expect "WARNING: possible circular locking dependency detected" \
    --expect "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage." \
    --expect "inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage." \
    --expect "WARNING: possible irq lock inversion dependency detected" \
    --expect "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected" \
    --expect "CPU0/hardirq is trying to acquire lock:" --expect "--- interrupt: vector 0x42" \
    --expect "       CPU0                    CPU1" --expect "  <Interrupt>" --expect " *** DEADLOCK ***" \
    --expect "lockdep: BUG: MAX_LOCK_DEPTH too low!" --expect "lockdep: turning off the locking correctness validator." \
    --expect "testcases passed! |" --reject "FAILED|" -- test=locking_selftest
run $Q lockdep-off --cpus 2 --ktap --expect "lockdep: off (lockdep=off)" --expect "# SKIP lockdep=off" \
    --reject "WARNING: possible" -- lockdep=off test=locking_selftest
printf '\nlockdep selftest\nlockdep\nlocks\nlockdep off\nlocks\npoweroff\n' > build/test-logs/lockdep.input
run $Q monitor-lockdep --cpus 2 --exit pass --input build/test-logs/lockdep.input \
    --expect "Good, all " --expect "lockdep: on, " --expect "-.: lock_A {IN-HARDIRQ-W}" --expect "] lock_B" \
    --expect "CPU1: no locks held" --expect "lockdep is off: held locks are not tracked" --expect "irqlab: power off"
