# tests/qemu-suite.sh: the list of QEMU runs in `make test` (sourced by tests/run-all.sh, which defines run).
#
# Each line boots the kernel once through tests/qemu-run.sh. Add a run here
# when you add a feature; see the options at the top of tests/qemu-run.sh.
Q=tests/qemu-run.sh

# In-kernel KTAP self-tests at every CPU count this issue supports.
for cpus in ${CPUS_LIST:-1 2 4 8}; do
    run $Q "ktest-cpus$cpus" --cpus "$cpus" --ktap --reject "rcu: INFO: rcu_sched" --reject "Out of memory:" \
        --reject "Watchdog detected hard LOCKUP" --reject "BUG: soft lockup" --reject "Continued non-responsive CSD lock" \
        --reject "stopping the machine" -- test=all
done

# The GRUB path: the ISO boots through multiboot2; the boot-information test
# checks what GRUB passed (the full set runs above, through -kernel).
run $Q ktest-grub --boot iso --cpus 2 --ktap --expect "multiboot2 from 'GRUB" -- test=boot_info_from_loader

# Lock and irqflags debugging, provoked on purpose: Linux's headlines, and the irq event stamps.
run $Q spinlock-reports --cpus 2 --ktap --expect "BUG: spinlock recursion on CPU#0, ktest/" \
    --expect "BUG: spinlock already unlocked on CPU#0, ktest/" --expect "BUG: spinlock wrong CPU on CPU#1, swapper/1/0" \
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
    --expect "usable" --expect "Command line:" --expect "irqlab: power off" \
    --expect "variant=lock_spin                    2+ CPUs  expect REPRODUCED      (default)"
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
run $Q smp-nr-cpus-2 --cpus 4 --ktap --expect "smp: Brought up 1 node, 2 CPUs" -- nr_cpus=2 test=smp_boot_every_listed_cpu_online
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

# Kernel threads and the scheduler (kernel/sched.c): the boot's work runs in
# a kthread ("ktest", "monitor") while the boot context idles as swapper/0;
# a sleeping thread's backtrace starts from the stack switch_to() left; the
# monitor's `ps` lists every task per CPU with its state and switch counts.
run $Q sched-show-task --cpus 2 --ktap --expect "task:sleeper/1 " --expect "state:S pid:" \
    --expect " schedule_timeout+0x" --expect " ret_from_kthread+0x8/0xa" -- test=sched_wakeup_from_another_cpu
printf '\nps\npoweroff\n' > build/test-logs/ps.input
run $Q monitor-ps --cpus 2 --exit pass --input build/test-logs/ps.input \
    --expect "CPU   PID  STATE        VOLUNTARY  INVOLUNTARY  COMMAND" \
    --expect "  0     0  R runnable" --expect "R running" --expect "monitor" --expect "  1     0  R running" \
    --expect "swapper/1" --expect "CPU0: " --expect "irqlab: power off"

# RCU (kernel/rcu.c, kernel/rcu_stall.c, kernel/objpool.c, kernel/oom.c). The
# quiet half is in test=all (rcu_* cases). On purpose, at 2, 4 and 8 CPUs, the
# last CPU stops passing quiescent states: with preemption off its own tick
# reports it ("self-detected"); with IRQs off another CPU does, with an NMI
# backtrace naming the spinner; with the churn workload running, call_rcu()
# callbacks drain the object pool into the OOM report naming the backlog.
# Each ends through the detectors' stop policy (QEMU status 39).
for cpus in 2 4 8; do
    last=$((cpus - 1))
    run $Q rcu-stall-preempt-off-cpus$cpus --cpus "$cpus" --exit detector \
        --expect "rcu: INFO: rcu_sched self-detected stall on CPU" --expect "rcu: 	$last-....: (" \
        --expect "(t=" --expect "rcu_test_spin_preempt_off+" --expect "'RCU stall' headline" \
        --reject "Out of memory" -- test=rcu_stall_preempt_off rcu_cpu_stall_timeout=1
    run $Q rcu-stall-irqs-off-cpus$cpus --cpus "$cpus" --exit detector \
        --expect "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:" --expect "rcu: 	$last-...!: (0 ticks this GP)" \
        --expect "(detected by " --expect "NMI backtrace for cpu $last" --expect "RIP: 0010:rcu_test_spin_irqs_off+" \
        --expect "'RCU stall' headline" -- test=rcu_stall_irqs_off rcu_cpu_stall_timeout=1
    run $Q rcu-oom-cpus$cpus --cpus "$cpus" --exit detector \
        --expect "invoked oom-killer: pool=rcu_pool" --expect "Out of memory: rcu_pool exhausted (256 of 256 objects in use)" \
        --expect "callbacks queued waiting for grace period 1 (gp started " --expect "CPUs holding it: $last)" \
        --expect "objpool: rcu_pool: 0 free of 256" --expect "'Out of memory' headline" \
        --reject "rcu: INFO:" -- test=rcu_oom_backlog
done
# CPU 0 stops with a GP running: the rcu_sched kthread (bound to CPU 0) starves, as in seed 000.
run $Q rcu-gp-kthread-starved --cpus 2 --exit detector --expect "rcu: INFO: rcu_sched" \
    --expect "rcu: rcu_sched kthread starved for " \
    --expect "Unless rcu_sched kthread gets sufficient CPU time, OOM is now expected behavior." \
    -- test=rcu_stall_gp_kthread_starved
printf '\nrcu\npoweroff\n' > build/test-logs/rcu.input
run $Q monitor-rcu --cpus 4 --exit pass --input build/test-logs/rcu.input \
    --expect "no grace period running; " --expect "rcu_sched kthread on CPU 0" \
    --expect "CPU  owes QS  last QS (ms ago)  waiting (for GP)   next" \
    --expect "objpool: rcu_pool: 256 free of 256" --expect "irqlab: power off"
run $Q rcu-bad-stall-timeout --exit pass --expect "cmdline: bad value '999' for 'rcu_cpu_stall_timeout'; valid: 0-300" \
    -- rcu_cpu_stall_timeout=999 test=rcu_synchronize_returns

# The hang detectors (kernel/watchdog.c, the CSD debug in kernel/smp.c,
# kernel/detector_stop.c; docs/detectors.md). The silent half is in test=all
# (watchdog_silent_*, csd_lock_unstuck). On purpose, at 2, 4 and 8 CPUs, the
# last CPU: spins in an interrupt handler with IF=0 (its buddy, the CPU
# before it, reports a hard LOCKUP with the spinner's irq-trace sites and
# NMI backtrace); runs a thread that spins with preemption off (soft
# lockup, named by the thread); or spins with IF=0 while CPU 0 waits on a
# cross call to it (CSD reports, re-sent IPI, "Continued" after back-off).
# Short thresholds keep the runs short; rcu_cpu_stall_timeout=0 keeps the
# RCU stall detector from ending the run first. Each ends through the stop
# policy (QEMU status 39) and prints, as a KTAP diagnostic, how long after
# the stall began each headline came. detector_stop=off: the reports repeat
# and the run goes on. The monitor's `watchdog` changes the threshold.
for cpus in 2 4 8; do
    last=$((cpus - 1)); buddy=$((cpus - 2))
    run $Q watchdog-hard-lockup-cpus$cpus --cpus "$cpus" --exit detector \
        --expect "watchdog: CPU$buddy: Watchdog detected hard LOCKUP on cpu $last" \
        --expect "hardirqs last disabled at (" --expect "NMI backtrace for cpu $last" \
        --expect "RIP: 0010:watchdog_test_hardirq_spin+" --expect "Kernel panic - not syncing: Hard LOCKUP" \
        --expect "# watchdog_hard_lockup: Hard LOCKUP of CPU$last reported by CPU$buddy " \
        -- test=watchdog_hard_lockup watchdog_thresh=1 rcu_cpu_stall_timeout=0
    run $Q watchdog-soft-lockup-cpus$cpus --cpus "$cpus" --exit detector \
        --expect "watchdog: BUG: soft lockup - CPU#$last stuck for 2s! [spinner/$last:" \
        --expect "RIP: 0010:watchdog_test_spin_preempt_off+" --expect "Kernel panic - not syncing: softlockup: hung tasks" \
        --expect "# watchdog_soft_lockup: soft lockup of CPU$last reported by CPU$last " \
        -- test=watchdog_soft_lockup watchdog_thresh=1 rcu_cpu_stall_timeout=0
    run $Q csd-lock-stuck-cpus$cpus --cpus "$cpus" --exit detector \
        --expect "smp: csd: Detected non-responsive CSD lock (#1) on CPU#0, waiting " \
        --expect " ns for CPU#0$last csd_test_noop+0x0/" --expect "smp: 	csd: CSD lock (#1) unresponsive." \
        --expect "Sending NMI from CPU 0 to CPUs $last:" --expect "csd_test_spin_irqs_off+" \
        --expect "smp: csd: Re-sending CSD lock (#1) IPI from CPU#00 to CPU#0$last" \
        --expect "smp: csd: Continued non-responsive CSD lock (#1) on CPU#0" \
        --expect "# csd_lock_stuck: CSD lock report about CPU$last by CPU0 " \
        -- test=csd_lock_stuck csd_lock_timeout=300 panic_on_ipistall=450 watchdog_thresh=10 rcu_cpu_stall_timeout=0
    run $Q csd-lock-unstuck-cpus$cpus --cpus "$cpus" --ktap \
        --expect "smp: csd: Detected non-responsive CSD lock (#1) on CPU#0, waiting " \
        --expect "smp: 	csd: CSD lock (#1) handling this request." --expect "NMI backtrace for cpu $last" \
        --expect "smp: csd: CSD lock (#1) got unstuck on CPU#00, CPU#0$last released the lock." \
        --expect "# csd_lock_unstuck: CPU0 waited for CPU$last: reported " --reject "Re-sending" -- test=csd_lock_unstuck
done
run $Q detector-stop-off --cpus 2 --ktap --expect "watchdog: BUG: soft lockup - CPU#1 stuck for 2s! [spinner/1:" \
    --expect "watchdog: BUG: soft lockup - CPU#1 stuck for 4s! [spinner/1:" \
    --expect "# watchdog_soft_lockup: detector_stop=off: no stop, the kernel runs on" --reject "stopping the machine" \
    -- test=watchdog_soft_lockup watchdog_thresh=1 detector_stop=off rcu_cpu_stall_timeout=0
printf '\nwatchdog thresh 2\nwatchdog\npoweroff\n' > build/test-logs/watchdog.input
run $Q monitor-watchdog --cpus 2 --exit pass --input build/test-logs/watchdog.input \
    --expect "watchdog_thresh 2 s: hard lockup (buddy) on, soft lockup on after 4 s; a timer every 800 ms" \
    --expect "CPU  timer runs  checks CPU  buddy checks  watchdog/N ran" --expect "irqlab: power off"

# Labs selfdeadlock, irq_inversion and counted_irq (kernel/labs/, docs/labs/):
# each variant at 2 and 4 CPUs, judged by its verdict line and QEMU status
# (41 REPRODUCED, 43 NOT REPRODUCED) plus the headlines its story needs.
# The hangs are short: the labs set watchdog_thresh=1 themselves.
for cpus in 2 4; do
    last=$((cpus - 1))
    # A lock shared by a task and its CPU's interrupt handler (seed 003).
    # CPU 0 deadlocks with itself; the CPU before it in the buddy ring (the last) reports it.
    run $Q lab-selfdeadlock-plain_lock-cpus$cpus --cpus "$cpus" --exit reproduced \
        --expect "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage." \
        --expect "BUG: spinlock recursion on CPU#0, lab/" \
        --expect "watchdog: CPU$last: Watchdog detected hard LOCKUP on cpu 0" \
        --expect "--- interrupt: vector 0x52, arrived with IF=1 ---" --expect " dev_interrupt+" \
        --expect "selfdeadlock/plain_lock: REPRODUCED: Hard LOCKUP of CPU0 (by CPU$last)" \
        -- lab=selfdeadlock variant=plain_lock
    run $Q lab-selfdeadlock-irqsave-cpus$cpus --cpus "$cpus" --exit not-reproduced \
        --expect "task: vector 0x52 pending in the IRR, not delivered (IF=0)" \
        --expect "selfdeadlock/irqsave: NOT REPRODUCED: the interrupt was pending while dev_lock was held" \
        --reject "WARNING:" --reject "BUG:" --reject "Watchdog detected" -- lab=selfdeadlock variant=irqsave
    run $Q lab-selfdeadlock-handler_irqsave-cpus$cpus --cpus "$cpus" --exit reproduced \
        --expect "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage." \
        --expect "watchdog: CPU$last: Watchdog detected hard LOCKUP on cpu 0" --expect " _spin_lock_irqsave+" \
        --expect "selfdeadlock/handler_irqsave: REPRODUCED: Hard LOCKUP of CPU0 (by CPU$last)" \
        --expect "; handler's irqsave saved IF=0" -- lab=selfdeadlock variant=handler_irqsave
    # What makes a lock HARDIRQ-safe (seed 002): the verdicts are lockdep's own
    # (lockdep_last_report); the deadlock itself needs 3 CPUs and says so at 2.
    run $Q lab-irq_inversion-irqs_off_only-cpus$cpus --cpus "$cpus" --exit not-reproduced \
        --expect "irq_inversion/irqs_off_only: NOT REPRODUCED: lockdep: no report; pcpu_lock {}, vmap_lock {HARDIRQ-ON-W}, pcpu_lock -> vmap_lock recorded" \
        --reject "WARNING:" -- lab=irq_inversion variant=irqs_off_only
    run $Q lab-irq_inversion-taken_in_irq-cpus$cpus --cpus "$cpus" --exit reproduced \
        --expect "WARNING: possible irq lock inversion dependency detected" \
        --expect "CPU0/hardirq just changed the state of lock:" \
        --expect "irq_inversion/taken_in_irq: REPRODUCED: lockdep: irq lock inversion (1 report)" \
        --reject "HARDIRQ-safe -> HARDIRQ-unsafe lock order detected" -- lab=irq_inversion variant=taken_in_irq
    run $Q lab-irq_inversion-irq_first-cpus$cpus --cpus "$cpus" --exit reproduced \
        --expect "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected" \
        --expect "irq_inversion/irq_first: REPRODUCED: lockdep: HARDIRQ-safe -> HARDIRQ-unsafe (1 report)" \
        --reject "possible irq lock inversion dependency detected" -- lab=irq_inversion variant=irq_first
    run $Q lab-irq_inversion-fix_irqsafe_vmap-cpus$cpus --cpus "$cpus" --exit not-reproduced \
        --expect "irq_inversion/fix_irqsafe_vmap: NOT REPRODUCED: lockdep: no report; pcpu_lock {IN-HARDIRQ-W}, vmap_lock {}" \
        --reject "WARNING:" -- lab=irq_inversion variant=fix_irqsafe_vmap
    run $Q lab-irq_inversion-fix_unlock_first-cpus$cpus --cpus "$cpus" --exit not-reproduced \
        --expect "irq_inversion/fix_unlock_first: NOT REPRODUCED: lockdep: no report; pcpu_lock {IN-HARDIRQ-W}, vmap_lock {HARDIRQ-ON-W}, pcpu_lock -> vmap_lock none" \
        --reject "WARNING:" -- lab=irq_inversion variant=fix_unlock_first
    # Hand-over-hand locking (seed 001): the interrupt is pending before the
    # first unlock; the handler says whether it came in with chain_b still held.
    run $Q lab-counted_irq-irqsave_hand_over_hand-cpus$cpus --cpus "$cpus" --exit reproduced \
        --expect "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage." \
        --expect "hardirqs last  enabled at (" --expect "raw_local_irq_restore() called with IRQs enabled" \
        --expect "counted_irq/irqsave_hand_over_hand: REPRODUCED: IRQ came in with chain_b held, at _spin_unlock_irqrestore+" \
        -- lab=counted_irq variant=irqsave_hand_over_hand
    run $Q lab-counted_irq-guard_irqsave-cpus$cpus --cpus "$cpus" --exit reproduced \
        --expect "counted_irq/guard_irqsave: REPRODUCED: IRQ came in with chain_b held, at _spin_unlock_irqrestore+" \
        -- lab=counted_irq variant=guard_irqsave
    run $Q lab-counted_irq-counted_hand_over_hand-cpus$cpus --cpus "$cpus" --exit not-reproduced \
        --expect "task: chain_a unlocked, chain_b held: IF=0, vector pending in the IRR" \
        --expect "counted_irq/counted_hand_over_hand: NOT REPRODUCED: between the unlocks IF=0, vector pending; IRQ came in after, at local_interrupt_enable+" \
        --reject "WARNING" -- lab=counted_irq variant=counted_hand_over_hand
    run $Q lab-counted_irq-scoped-cpus$cpus --cpus "$cpus" --exit not-reproduced \
        --expect "task: chain_a unlocked, chain_b held: IF=0, vector pending in the IRR" \
        --expect "counted_irq/scoped: NOT REPRODUCED: between the unlocks IF=0, vector pending; IRQ came in after, at lab_counted_irq_scoped_run+" \
        --reject "WARNING" -- lab=counted_irq variant=scoped
done
run $Q lab-irq_inversion-deadlock-cpus2 --cpus 2 --exit badboot \
    --expect "lab: irq_inversion/deadlock needs 3 CPUs and this machine has 2 online" -- lab=irq_inversion variant=deadlock
run $Q lab-irq_inversion-deadlock-cpus4 --cpus 4 --exit reproduced \
    --expect "watchdog: CPU0: Watchdog detected hard LOCKUP on cpu 1" --expect " deadlock_interrupt+" \
    --expect " cpu_y_thread+" --reject "WARNING:" \
    --expect "irq_inversion/deadlock: REPRODUCED: Hard LOCKUP of CPU1 (by CPU0): its handler waits for pcpu_lock (CPU2), CPU2 waits for vmap_lock (CPU1)" \
    -- lab=irq_inversion variant=deadlock

# The stall lab (kernel/labs/stall.c, docs/labs/stall.md), every variant at 2
# and 4 CPUs: the verdict line and QEMU status, the reports a stall must print
# in order to be understood, and none in the variants that complete. A
# stalling run ends through the detectors' stop policy at the last report
# the machine can give: the RCU stall with 2 CPUs (both are stuck, nothing
# allocates), OOM with more (a producer runs on CPU 2).
no_stall=(--reject "Detected non-responsive CSD lock" --reject "Watchdog detected hard LOCKUP"
          --reject "rcu: INFO: rcu_sched" --reject "Out of memory:" --reject "stopping the machine")
for cpus in 2 4; do
    stall() { run $Q "stall-$1-cpus$cpus" --cpus "$cpus" --timeout 60 "${@:2}" -- lab=stall variant=$1; }
    stall real_restore --exit not-reproduced --expect "stall/real_restore: NOT REPRODUCED: callback's lock ops: 0 sti in" \
        --expect "0 in all hardirq; IPI taken after the timer's iretq" "${no_stall[@]}"
    stall broken_restore --exit not-reproduced --expect "stall/broken_restore: NOT REPRODUCED" \
        --expect "callback: its lock/unlock executed sti" --expect "IPI came in the window (flush at depth 2)" "${no_stall[@]}"
    stall broken_restore_lowvec_storm --exit not-reproduced --expect "stall/broken_restore_lowvec_storm: NOT REPRODUCED" \
        --expect "call_function_lowvec=1" --expect "hrtimer: interrupt took" \
        --expect "IPI came in the window (flush at depth 2)" "${no_stall[@]}"
    stall lowvec_nic_real_restore --exit not-reproduced --expect "stall/lowvec_nic_real_restore: NOT REPRODUCED" \
        --expect "NIC interrupt (hardirq depth 1) takes the schedule's lock" \
        --expect "0 in all hardirq; IPI taken after the timer's iretq" "${no_stall[@]}" --reject "BUG: spinlock"
    stall patch_skip_in_hardirq --exit not-reproduced --expect "stall/patch_skip_in_hardirq: NOT REPRODUCED" \
        --expect "lockdep_skip_irq_save_in_hardirq=1" --expect "callback's lock ops: 0 sti in" \
        --expect "the flush ran after the rendezvous callback returned" "${no_stall[@]}" --reject "BUG: spinlock"
    stall rearm_past_guarded --exit not-reproduced --expect "stall/rearm_past_guarded: NOT REPRODUCED: max 3 callbacks per timer interrupt" \
        --expect "hrtimer: interrupt took" "${no_stall[@]}"
    stall lock_spin_drop_first --exit not-reproduced --expect "stall/lock_spin_drop_first: NOT REPRODUCED" \
        --expect "CPU 1 drops the lock before flushing" "${no_stall[@]}" --reject "WARNING:"
    stall lock_spin_trylock --exit not-reproduced --expect "stall/lock_spin_trylock: NOT REPRODUCED" \
        --expect "callback: trylock failed (CPU 1 holds the lock); retry next cycle" "${no_stall[@]}"
    stall wait_irqs_on --exit not-reproduced --expect "stall/wait_irqs_on: NOT REPRODUCED: both flushes acked" \
        "${no_stall[@]}" --reject "WARNING:"

    # The stalls. Common to all: CPU 1 waits for CPU 0, which never started the flush.
    csd=(--expect "smp: csd: Detected non-responsive CSD lock (#1) on CPU#1, waiting "
         --expect " ns for CPU#00 flush_tlb_func+0x0/" --expect "csd: CSD lock (#1) unresponsive.")
    if [ "$cpus" = 2 ]; then
        last=(--expect "lab: RCU stall ended the run" --reject "Out of memory:")
    else
        last=(--expect "Out of memory: rcu_pool exhausted" --expect "lab: Out of memory ended the run")
    fi
    stall broken_restore_lowvec_nic --exit reproduced --expect "stall/broken_restore_lowvec_nic: REPRODUCED" \
        --expect "NIC interrupt (hardirq depth 2) takes the schedule's lock" --expect "BUG: spinlock recursion on CPU#0" \
        "${csd[@]}" --expect "Watchdog detected hard LOCKUP on cpu 0" --expect "rcu: INFO: rcu_sched" \
        --expect "RIP: 0010:spin_lock+" --expect " stall_nic_interrupt+" --expect "--- interrupt: vector 0x51, arrived with IF=1 ---" \
        --expect " lock_release+" "${last[@]}"
    stall rearm_past_unguarded --exit reproduced --expect "stall/rearm_past_unguarded: REPRODUCED" \
        --expect "callback: 10 callbacks in one timer interrupt, IF=0 throughout" "${csd[@]}" \
        --expect "rcu: INFO: rcu_sched" --expect " hrtimer_interrupt+" "${last[@]}" \
        --reject "Watchdog detected hard LOCKUP on cpu 0" --reject "hrtimer: interrupt took"
    stall lock_spin --exit reproduced --expect "stall/lock_spin: REPRODUCED" \
        --expect "WARNING: inconsistent lock state" --expect "callback: spins on the lock CPU 1 holds, IF=0" \
        "${csd[@]}" --expect "Watchdog detected hard LOCKUP on cpu 0" --expect "rcu: INFO: rcu_sched" \
        --expect "RIP: 0010:spin_lock+" --expect " stall_advance_sched+" "${last[@]}"
    if [ "$cpus" = 2 ]; then
        stall wait_irqs_off --exit reproduced --expect "stall/wait_irqs_off: REPRODUCED" \
            --expect "at kernel/smp.c" --expect "smp: csd: Detected non-responsive CSD lock (#" \
            --expect "lab: csd: CSD lock stall (panic_on_ipistall) ended the run" --reject "rcu: INFO:"
    else
        stall wait_irqs_off --exit reproduced --expect "stall/wait_irqs_off: REPRODUCED" \
            --expect "at kernel/smp.c" --expect "smp: csd: Detected non-responsive CSD lock (#" \
            --expect "Watchdog detected hard LOCKUP on cpu 0" --expect "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:" \
            "${last[@]}"
    fi
done

