// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: the tracepoints of ioreq_trace.h, defined here once.
 */
#define CREATE_TRACE_POINTS
#include "ioreq_trace.h"
