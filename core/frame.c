/* SPDX-License-Identifier: BSD-2-Clause */
/* Physical frame allocator: a fixed-size list of free ranges. */
#include "core/frame.h"
#include "core/string.h"

/* The highest page-aligned address: exclusive ends never go past it. */
#define FRAME_TOP ALIGN_DOWN(UINT64_MAX, FRAME_SIZE)

void frame_allocator_init(struct frame_allocator *fa)
{
	memset(fa, 0, sizeof(*fa));
}

static void remove_at(struct frame_allocator *fa, size_t i)
{
	memmove(&fa->free[i], &fa->free[i + 1], (fa->nfree - i - 1) * sizeof(fa->free[0]));
	fa->nfree--;
}

/*
 * Insert the page-aligned, non-empty [base, end), merging with neighbours.
 * Rejects any overlap with free memory: for frame_free that is a double free.
 */
static enum frame_error insert_range(struct frame_allocator *fa, uint64_t base, uint64_t end)
{
	size_t i = 0;
	bool merge_prev, merge_next;

	/* First range that starts at or after end: everything before it may touch us. */
	while (i < fa->nfree && fa->free[i].base < end)
		i++;
	if (i > 0 && fa->free[i - 1].end > base)
		return FRAME_ERR_OVERLAP;

	merge_prev = i > 0 && fa->free[i - 1].end == base;
	merge_next = i < fa->nfree && fa->free[i].base == end;

	if (merge_prev && merge_next) {
		fa->free[i - 1].end = fa->free[i].end;
		remove_at(fa, i);
	} else if (merge_prev) {
		fa->free[i - 1].end = end;
	} else if (merge_next) {
		fa->free[i].base = base;
	} else {
		if (fa->nfree == FRAME_MAX_RANGES) {
			/* The memory is lost to us; say so rather than fail silently. */
			fa->overflowed = true;
			return FRAME_ERR_FULL;
		}
		memmove(&fa->free[i + 1], &fa->free[i], (fa->nfree - i) * sizeof(fa->free[0]));
		fa->free[i] = (struct frame_range){ .base = base, .end = end };
		fa->nfree++;
	}
	fa->free_bytes += end - base;
	return FRAME_OK;
}

/*
 * Take the page-aligned [base, end) out of the free list. Splitting a range
 * needs one more slot; when the list is full the smaller leftover piece is
 * dropped (and overflowed set): losing free memory is safe, leaving
 * reserved memory allocatable is not.
 */
static void remove_range(struct frame_allocator *fa, uint64_t base, uint64_t end)
{
	size_t i = 0;

	while (i < fa->nfree) {
		struct frame_range *r = &fa->free[i];
		uint64_t cut_base, cut_end;

		if (r->end <= base) {
			i++;
			continue;
		}
		if (r->base >= end)
			break;

		cut_base = MAX(r->base, base);
		cut_end = MIN(r->end, end);
		fa->free_bytes -= cut_end - cut_base;

		if (cut_base == r->base && cut_end == r->end) {
			remove_at(fa, i);
			continue;
		}
		if (cut_base == r->base) {
			r->base = cut_end;
		} else if (cut_end == r->end) {
			r->end = cut_base;
		} else if (fa->nfree < FRAME_MAX_RANGES) {
			memmove(&fa->free[i + 2], &fa->free[i + 1],
				(fa->nfree - i - 1) * sizeof(fa->free[0]));
			fa->free[i + 1] = (struct frame_range){ .base = cut_end, .end = r->end };
			r->end = cut_base;
			fa->nfree++;
		} else {
			uint64_t head = cut_base - r->base, tail = r->end - cut_end;

			fa->overflowed = true;
			if (head >= tail) {
				fa->free_bytes -= tail;
				r->end = cut_base;
			} else {
				fa->free_bytes -= head;
				r->base = cut_end;
			}
		}
		i++;
	}
}

/* Address 0 doubles as frame_alloc's failure value, so page 0 is never free. */
enum frame_error frame_add(struct frame_allocator *fa, uint64_t base, uint64_t len)
{
	uint64_t end;

	if (len == 0 || len > UINT64_MAX - base)
		return FRAME_ERR_RANGE;
	end = ALIGN_DOWN(base + len, FRAME_SIZE);
	if (base > FRAME_TOP)
		return FRAME_OK;
	base = MAX(ALIGN_UP(base, FRAME_SIZE), FRAME_SIZE);
	if (base >= end)
		return FRAME_OK;
	return insert_range(fa, base, end);
}

enum frame_error frame_reserve(struct frame_allocator *fa, uint64_t base, uint64_t len)
{
	uint64_t end;

	if (len == 0 || len > UINT64_MAX - base)
		return FRAME_ERR_RANGE;
	end = base + len;
	/* Nothing is ever free above FRAME_TOP, so clamping there loses nothing. */
	end = end > FRAME_TOP ? FRAME_TOP : ALIGN_UP(end, FRAME_SIZE);
	base = ALIGN_DOWN(base, FRAME_SIZE);
	if (base < end)
		remove_range(fa, base, end);
	return FRAME_OK;
}

uint64_t frame_alloc(struct frame_allocator *fa, size_t count, uint64_t align, uint64_t limit)
{
	uint64_t size;
	size_t i;

	if (count == 0 || count > UINT64_MAX / FRAME_SIZE)
		return 0;
	if (align < FRAME_SIZE)
		align = FRAME_SIZE;
	if (align & (align - 1))
		return 0;
	size = count * FRAME_SIZE;

	/* The list is sorted, so the first fit is the lowest address. */
	for (i = 0; i < fa->nfree; i++) {
		const struct frame_range *r = &fa->free[i];
		uint64_t addr;

		if (r->base > UINT64_MAX - (align - 1))
			break;
		addr = ALIGN_UP(r->base, align);
		if (addr >= r->end || r->end - addr < size)
			continue;
		if (limit && (addr >= limit || limit - addr < size))
			break;
		remove_range(fa, addr, addr + size);
		return addr;
	}
	return 0;
}

enum frame_error frame_free(struct frame_allocator *fa, uint64_t base, size_t count)
{
	uint64_t size;

	if (count == 0 || count > UINT64_MAX / FRAME_SIZE || base == 0 ||
	    !IS_ALIGNED(base, FRAME_SIZE))
		return FRAME_ERR_RANGE;
	size = count * FRAME_SIZE;
	if (size > FRAME_TOP - base)
		return FRAME_ERR_RANGE;
	return insert_range(fa, base, base + size);
}

const char *frame_strerror(enum frame_error err)
{
	switch (err) {
	case FRAME_OK:
		return "ok";
	case FRAME_ERR_FULL:
		return "free list full";
	case FRAME_ERR_OVERLAP:
		return "range already free";
	case FRAME_ERR_RANGE:
		return "bad range";
	}
	return "unknown error";
}
