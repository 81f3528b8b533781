/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels truth.ko builds for, in one place.  The
 * module is written against 6.12; older kernels spell the kfunc macros
 * differently:
 *
 *   __bpf_kfunc              6.2+, before: plain noinline functions
 *   __bpf_kfunc_start_defs   6.7+, before: nothing (the kfuncs have prototypes)
 *   BTF_KFUNCS_START/END     6.8+, before: BTF_SET8_START/END
 */
#ifndef _TRUTH_COMPAT_H
#define _TRUTH_COMPAT_H

#include <linux/btf.h>
#include <linux/btf_ids.h>

#ifndef __bpf_kfunc
#define __bpf_kfunc noinline	/* BTF_ID_FLAGS() references it */
#endif

/* our kfuncs have prototypes (fastpath.h): nothing to silence */
#ifndef __bpf_kfunc_start_defs
#define __bpf_kfunc_start_defs()
#define __bpf_kfunc_end_defs()
#endif

#ifndef BTF_KFUNCS_START
#define BTF_KFUNCS_START(name) BTF_SET8_START(name)
#define BTF_KFUNCS_END(name) BTF_SET8_END(name)
#endif

#endif /* _TRUTH_COMPAT_H */
