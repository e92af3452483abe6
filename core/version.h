/* SPDX-License-Identifier: BSD-2-Clause */
/* umbra's version, reported in the banner and by the hypercall interface. */
#ifndef UMBRA_CORE_VERSION_H
#define UMBRA_CORE_VERSION_H

#define UMBRA_VERSION_MAJOR 0
#define UMBRA_VERSION_MINOR 1
#define UMBRA_VERSION "0.1"

#endif
