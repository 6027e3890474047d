// Counts calls to malloc, calloc, realloc and the aligned allocators in this
// process, so benchmarks can show how many allocations a piece of work makes.
#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H
#include <stdint.h>

// Allocations made so far by any thread of this process.
uint64_t cmc_allocation_count(void);

// Allocations made so far by the calling thread: a figure that must be zero is not
// disturbed by another test's thread allocating at the same moment.
uint64_t cmc_thread_allocation_count(void);

#endif
