/* kernel/bench.h: bench=: the cycle costs of the irq, lock, IPI and TLB-shootdown primitives, as a table. */
#ifndef KERNEL_BENCH_H
#define KERNEL_BENCH_H

#include <stdbool.h>

/* The most samples one row may take (bench_samples=), and the default. */
#define BENCH_SAMPLES_MAX     10000
#define BENCH_SAMPLES_DEFAULT 101

/* bench= ("" when not given: no benchmark) and bench_samples=. */
extern char param_bench[32];
extern int param_bench_samples;
/* bench= or bench_samples= was given a value the parser refused (the boot stops, kernel/main.c);
 * bench_samples= was given a valid one. */
extern bool param_bench_refused, param_bench_samples_refused, param_bench_samples_given;

/* Is `name` "all" or one of the benchmark groups? */
bool bench_valid_name(const char *name);
/* "all, irqsave, counted, ...": the valid bench= values, for messages. */
void bench_list(char *buf, unsigned long size);

/*
 * Run "all" or one group, printing the table (docs/bench.md gives its line
 * format), then exit QEMU with the pass status. Task context on CPU 0,
 * IRQs on, every CPU up. Each row takes param_bench_samples samples.
 */
__attribute__((noreturn)) void bench_run(const char *name);

#endif
