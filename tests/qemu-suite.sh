# tests/qemu-suite.sh: the list of QEMU runs in `make test` (sourced by tests/run-all.sh, which defines run).
#
# Each line boots the kernel once through tests/qemu-run.sh. Add a run here
# when you add a feature; see the options at the top of tests/qemu-run.sh.
Q=tests/qemu-run.sh

# In-kernel KTAP self-tests at every CPU count this issue supports.
for cpus in ${CPUS_LIST:-1 2 4}; do
    run $Q "ktest-cpus$cpus" --cpus "$cpus" --ktap -- test=all
done

# The GRUB path: the ISO boots through multiboot2 and runs the same tests.
run $Q ktest-grub --boot iso --cpus 2 --ktap --expect "multiboot2 from 'GRUB" -- test=all

# Deliberate faults: each must print its own headline and end in a failure exit.
run $Q fault-divide --exit fail --expect "Oops: divide error: 0000 [#1]" --expect "fault_divide" -- test=fault_divide
run $Q fault-ud     --exit fail --expect "Oops: invalid opcode: 0000 [#1]" --expect "fault_invalid_opcode" -- test=fault_invalid_opcode
run $Q fault-gp     --exit fail --expect "Oops: general protection fault: 0000 [#1]" -- test=fault_general_protection
run $Q fault-pf     --exit fail --expect "BUG: unable to handle page fault for address: 00000000deadb000" \
                                --expect "#PF: error_code(0x0000) - not-present page" -- test=fault_page_fault
run $Q fault-stack  --exit fail --expect "BUG: TASK stack guard page was hit at" \
                                --expect "Oops: kernel stack overflow (double-fault)" -- test=fault_stack_overflow

# Bad command lines: a clear message naming what is valid; never a crash or a hang.
run $Q cmdline-unknown-key --exit pass --expect "cmdline: unknown parameter 'bogus'; valid parameters: lab, variant, test, loglevel" \
                           --reject "Oops" -- bogus=1 test=boot_sanity
run $Q cmdline-bad-loglevel --exit pass --expect "cmdline: bad value 'high' for 'loglevel'; valid: 0-8" -- loglevel=high test=boot_sanity
run $Q cmdline-unknown-test --exit badboot --expect "unknown test 'nosuch'; valid: all," -- test=nosuch
run $Q cmdline-unknown-lab  --exit badboot --expect "unknown lab 'nosuch'" -- lab=nosuch

# The monitor: commands typed on the serial console, then poweroff. The
# first byte goes to a leading newline: serial_init() clears the UART FIFO,
# and with it whatever QEMU had already delivered.
printf '\nhelp\ninfo\nbogus\nlabs\nhelx\x7fp\npoweroff\n' > build/test-logs/monitor.input
run $Q monitor --exit pass --input build/test-logs/monitor.input \
    --expect "irqlab> " --expect "reboot    restart" --expect "unknown command 'bogus'; type 'help' for the list" \
    --expect "usable" --expect "Command line:" --expect "irqlab: power off"
printf '\nreboot\n' > build/test-logs/reboot.input
run $Q monitor-reboot --exit reboot --input build/test-logs/reboot.input --expect "irqlab: restarting system"
