/* SPDX-License-Identifier: BSD-2-Clause */
/* The VMCS field table generated from VMCS_FIELDS: names for logs and look-ups. */
#include "arch/x86/vmcs_fields.h"

#define VMCS_FIELD_DESC(name, enc) { enc, #name },
const struct vmcs_field_desc vmcs_field_table[VMCS_FIELD_COUNT] = { VMCS_FIELDS(VMCS_FIELD_DESC) };
#undef VMCS_FIELD_DESC

/* A 64-bit field's HIGH access is the field's encoding with bit 0 set. */
const struct vmcs_field_desc *vmcs_field_lookup(uint32_t encoding)
{
	uint32_t base = encoding;

	if (VMCS_FIELD_WIDTH(encoding) == VMCS_WIDTH_64)
		base &= ~1u;
	else if (VMCS_FIELD_HIGH_ACCESS(encoding))
		return NULL; /* only 64-bit fields have a HIGH half */
	for (size_t i = 0; i < VMCS_FIELD_COUNT; i++)
		if (vmcs_field_table[i].encoding == base)
			return &vmcs_field_table[i];
	return NULL;
}

const char *vmcs_field_name(uint32_t encoding)
{
	const struct vmcs_field_desc *d = vmcs_field_lookup(encoding);

	return d ? d->name : NULL;
}
