/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TRUTH_VERSION_H
#define _TRUTH_VERSION_H

#define TRUTH_MODULE_VERSION "0.1.0"

#endif /* _TRUTH_VERSION_H */
