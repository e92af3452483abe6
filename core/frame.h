/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical frame allocator: a fixed-size list of free ranges. */
#ifndef UMBRA_CORE_FRAME_H
#define UMBRA_CORE_FRAME_H

#include "core/types.h"

#define FRAME_SIZE 4096ULL
#define FRAME_MAX_RANGES 128

struct frame_range {
	uint64_t base; /* page aligned */
	uint64_t end;  /* page aligned, exclusive */
};

/*
 * Free ranges are kept sorted, non-overlapping and non-adjacent (merged).
 * No allocation of its own: the state lives in the struct.
 */
struct frame_allocator {
	struct frame_range free[FRAME_MAX_RANGES];
	size_t nfree;
	uint64_t free_bytes;
	bool overflowed; /* a range was dropped because the list was full */
};

enum frame_error {
	FRAME_OK = 0,
	FRAME_ERR_FULL,    /* too many ranges: the change was not made */
	FRAME_ERR_OVERLAP, /* frame_add/free of memory that is already free */
	FRAME_ERR_RANGE,   /* zero length or base + len overflows */
};

void frame_allocator_init(struct frame_allocator *fa);

/* Add usable memory; shrunk inward to page boundaries (may add nothing). */
enum frame_error frame_add(struct frame_allocator *fa, uint64_t base, uint64_t len);

/* Take memory out of the free list (extended outward to page boundaries); splits ranges. */
enum frame_error frame_reserve(struct frame_allocator *fa, uint64_t base, uint64_t len);

/*
 * Allocate count contiguous frames, aligned to align bytes (a power of two,
 * at least FRAME_SIZE), wholly below limit (0 = no limit). Lowest fitting
 * address first. Returns the physical address, or 0 when nothing fits
 * (address 0 is never handed out).
 */
uint64_t frame_alloc(struct frame_allocator *fa, size_t count, uint64_t align, uint64_t limit);

/* Give back count frames at base (page aligned). Detects double frees that overlap free memory. */
enum frame_error frame_free(struct frame_allocator *fa, uint64_t base, size_t count);

const char *frame_strerror(enum frame_error err);

#endif
