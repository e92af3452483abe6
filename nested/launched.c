/* SPDX-License-Identifier: BSD-2-Clause */
/* Launched-VMCS list (the seed series' first patch, with a rule for when it is full). */
#include "nested/launched.h"
#include "core/string.h"

void launched_init(struct launched_list *l)
{
	memset(l, 0, sizeof(*l));
}

static int find(const struct launched_list *l, uint64_t addr)
{
	for (uint32_t i = 0; i < l->count; i++)
		if (l->addr[i] == addr)
			return (int)i;
	return -1;
}

bool launched_has(const struct launched_list *l, uint64_t addr)
{
	return find(l, addr) >= 0;
}

bool launched_add(struct launched_list *l, uint64_t addr, uint64_t *evicted)
{
	uint32_t victim = 0;
	bool full = false;

	if (find(l, addr) >= 0)
		return false;
	if (l->count == LAUNCHED_LIST_SIZE) {
		/* The oldest launch goes (unsigned difference: correct across clock wrap). */
		for (uint32_t i = 1; i < l->count; i++)
			if (l->clock - l->stamp[i] > l->clock - l->stamp[victim])
				victim = i;
		*evicted = l->addr[victim];
		full = true;
	} else {
		victim = l->count++;
	}
	l->addr[victim] = addr;
	l->stamp[victim] = l->clock++;
	return full;
}

bool launched_remove(struct launched_list *l, uint64_t addr)
{
	int i = find(l, addr);

	if (i < 0)
		return false;
	l->count--;
	l->addr[i] = l->addr[l->count];
	l->stamp[i] = l->stamp[l->count];
	return true;
}
