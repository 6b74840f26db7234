// SPDX-License-Identifier: GPL-2.0
/*
 * The Xen provider's page protocol, compiled into the test double as it
 * is compiled into ioreq_xen.ko: one source, two modules, no object file
 * shared between them.
 */
#include "../page.c"
