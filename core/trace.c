/* SPDX-License-Identifier: BSD-2-Clause */
/* Exit trace: a fixed per-CPU ring of VM-exit records, dumped as machine-readable lines. */
#include "core/trace.h"
#include "core/format.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/percpu.h"

#define TRACE_PAGE_SIZE 4096

/* One ring per CPU, written only by its own CPU; read by the dump. */
struct trace_ring {
	struct trace_record *rec;
	uint64_t next; /* exits recorded so far: the next record's seq */
};

bool trace_enabled;
static struct trace_ring rings[MAX_CPUS];
static uint32_t ring_size;
static uint32_t ring_cpus;

bool trace_init(uint32_t records_per_cpu, uint32_t cpus)
{
	size_t bytes = (size_t)records_per_cpu * sizeof(struct trace_record);
	size_t pages = (bytes + TRACE_PAGE_SIZE - 1) / TRACE_PAGE_SIZE;

	if (!records_per_cpu)
		return true;
	if (records_per_cpu > TRACE_MAX_RECORDS || cpus > MAX_CPUS)
		return false;
	for (uint32_t c = 0; c < cpus; c++) {
		uint64_t pa = mem_alloc_pages(pages);

		if (!pa) {
			log_warn("trace: no memory for %u records on CPU %u: tracing off", records_per_cpu, c);
			return false;
		}
		rings[c] = (struct trace_ring){ .rec = (struct trace_record *)pa, .next = 0 };
	}
	ring_size = records_per_cpu;
	ring_cpus = cpus;
	trace_enabled = true;
	log_info("trace: %u exit records per CPU (%zu KiB each), dumped at shutdown as utrace lines",
		 records_per_cpu, pages * TRACE_PAGE_SIZE / 1024);
	return true;
}

struct trace_record *trace_next(uint32_t cpu)
{
	struct trace_ring *r = &rings[cpu];
	struct trace_record *rec = &r->rec[r->next % ring_size];

	rec->seq = r->next++;
	return rec;
}

uint64_t trace_dump(uint32_t cpu)
{
	const struct trace_ring *r;
	uint64_t first, lost;

	if (!trace_enabled || cpu >= ring_cpus)
		return 0;
	r = &rings[cpu];
	lost = r->next > ring_size ? r->next - ring_size : 0;
	first = lost;
	log_info("utrace v=%u rec=ring cpu=%u size=%u exits=%lu records=%lu lost=%lu", TRACE_FORMAT_VERSION,
		 cpu, ring_size, r->next, r->next - first, lost);
	for (uint64_t s = first; s < r->next; s++) {
		const struct trace_record *t = &r->rec[s % ring_size];

		char field[12] = "-";

		if (t->field != TRACE_NO_FIELD)
			fmt_snprintf(field, sizeof(field), "%#x", t->field);
		log_info("utrace v=%u rec=exit cpu=%u seq=%lu tsc=%lu level=L%u reason=%u qual=%#lx rip=%#lx "
			 "cycles=%lu reflected=%u done=%u entry_failure=%u field=%s",
			 TRACE_FORMAT_VERSION, cpu, t->seq, t->tsc, t->level, t->reason, t->qualification,
			 t->rip, t->cycles, !!(t->flags & TRACE_REFLECTED), !!(t->flags & TRACE_DONE),
			 !!(t->flags & TRACE_ENTRY_FAILURE), field);
	}
	log_info("utrace v=%u rec=end cpu=%u", TRACE_FORMAT_VERSION, cpu);
	return r->next - first;
}

void trace_dump_all(void)
{
	for (uint32_t c = 0; c < ring_cpus; c++)
		trace_dump(c);
}
