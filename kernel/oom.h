/* kernel/oom.h: the out-of-memory report. */
#ifndef KERNEL_OOM_H
#define KERNEL_OOM_H

/*
 * The pool `pool` has nothing left for an allocation: print Linux-shaped
 * out-of-memory lines that name who holds the memory, then call the
 * detector stop policy. Once per boot; later calls return at once. Any
 * context, IRQs on or off.
 */
void out_of_memory(const char *pool, unsigned total, unsigned free);

#endif
