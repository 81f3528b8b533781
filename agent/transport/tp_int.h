/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* truth transport internals shared by its two files. */
#ifndef _TRUTH_TP_INT_H
#define _TRUTH_TP_INT_H

#include "transport/transport.h"

/* Datagram payload -> raft message; 0 or -1 (malformed). */
int truth_tp_decode(struct truth_tp *t, struct truth_tp_peer *peer,
		    const struct truth_wire_msg *w, struct raft_msg *m);

#endif /* _TRUTH_TP_INT_H */
