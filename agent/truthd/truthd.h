/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * truthd internals: the daemon's one struct and the split between its
 * files.  main.c (flags, startup, shutdown), node.c (Raft, disk, state
 * machine, the ready loop), client.c (RESP connections, redirects,
 * deferred replies), info.c (INFO truth).
 */
#ifndef _TRUTHD_H
#define _TRUTHD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "clock/probe.h"
#include "clock/tsock.h"
#include "conf/conf.h"
#include "counter/counter.h"
#include "evloop/evloop.h"
#include "raft/raft.h"
#include "resp/resp.h"
#include "sm/sm.h"
#include "storage/storage.h"
#include "transport/transport.h"

/*
 * A log entry holds one write: its values (each at most max_value_bytes)
 * plus this much for the key, the other arguments and the encoding.
 * Peers accept fragmented entries up to the same size (transport msg_max).
 */
#define TRUTHD_ENTRY_SLACK	65536u
static inline uint32_t truthd_entry_max(const struct truth_conf *c)
{
	return c->max_value_bytes + TRUTHD_ENTRY_SLACK;
}

enum conn_wait {
	WAIT_NONE,
	WAIT_WRITE,		/* entry (index, term) proposed */
	WAIT_READ_INDEX,	/* ReadIndex ctx sent, index not known yet */
	WAIT_READ,		/* serve once applied >= index */
	WAIT_BLOCKED,		/* applied, no reply yet: (client, wait_seq) blocks (coord.c) */
	WAIT_COMMIT,		/* answered, reply held until earliest > cw_ts (coord.c) */
};

struct conn {
	struct truth_ev ev;
	struct truthd *d;
	struct truth_resp_session s;
	uint8_t *in;			/* received, not yet fed */
	size_t in_len, in_cap;
	enum conn_wait wait;
	uint64_t index, term, ctx;
	struct truth_resp_request req;	/* the deferred read (points into the parser) */
	uint64_t own_client;		/* the connection's own client id (coord.c) */
	uint64_t client;		/* the last TRUTH.REQ client id seen, 0 none */
	uint64_t auto_seq;		/* seq of requests without an envelope */
	uint64_t wait_seq;		/* the request whose reply is due, 0 none */
	uint32_t opts;			/* that request's TRUTH.REQ options (HLC, COMMITWAIT) */
	uint64_t cw_ts;			/* commit-wait: the reply goes once earliest > this */
	int64_t cw_since;		/* commit-wait: CLOCK_MONOTONIC ns it started */
	struct truth_resp_out cw_out;	/* commit-wait: the reply held meanwhile */
	bool zombie;			/* socket gone, waiting for its op to resolve */
	bool eof;			/* the client shut its sending side */
	bool resume;			/* on the resume list */
	struct conn *next_resume;
	struct conn *prev, *next;	/* all connections */
	uint64_t lat_index;		/* lat.c: the write whose reply is due */
};

/* The local chronyd as a reference source (clock_chrony.c). */
enum { CHRONY_STARTING, CHRONY_OK, CHRONY_UNSYNC, CHRONY_ABSENT };

struct clock_chrony {
	pthread_t th;
	pthread_mutex_t mu;		/* r_* and stop */
	pthread_cond_t cv;		/* wakes the thread to stop */
	bool opened, stop, running;
	struct truth_ev ev;
	int efd;			/* eventfd: a reading is in r_* */
	char sock[108];			/* chronyd's command socket, "" default */
	/* the thread's own */
	int fd;				/* our datagram socket, -1 none */
	char local[108];		/* its path, "" when not bound */
	uint32_t seq;			/* last request's sequence number */
	/* handed over under mu */
	int64_t h_lr1, h_real, h_lr2;
	int r_state;			/* CHRONY_* */
	uint64_t r_bound;		/* ns, when OK */
	int64_t r_l1, r_l2;		/* RAW around the reading */
	char r_why[256];		/* when not OK */
	uint64_t r_gen;
	/* the loop's */
	int state;			/* last state applied */
	uint64_t bound;			/* last good bound */
	uint64_t readings;		/* results applied */
	char why[256];			/* why it is not used, "" when ok */
	char logged[256];		/* last reason logged */
};

/* Steering CLOCK_REALTIME (clock_discipline.c). */
enum { DISC_OFF, DISC_ON, DISC_REFUSED };
#define DISC_FIT_LEN	64		/* samples (one a second) in the frequency fit */

struct clock_discipline {
	int state;			/* DISC_* */
	int64_t last;			/* local time of the last check */
	int64_t offset;			/* wall clock - estimate, last seen, ns */
	uint64_t epsilon;		/* the estimate's half-width then */
	uint64_t adjustments;		/* slews handed to the kernel */
	bool too_far;			/* over the limit: refused to step */
	char why[200];			/* why refused */
	/* the controller (Documentation/truthd.md "Discipline") */
	long freq_found;		/* ADJ_FREQUENCY found at start, scaled ppm */
	bool touched;			/* our frequency or slew is in the kernel */
	int64_t freq_ppb;		/* the ADJ_FREQUENCY we set, ppb */
	int64_t slew_ns;		/* the last adjtime()-style slew handed over */
	int64_t drift_ppb;		/* the fit: the wall clock's rate against RAW */
	bool fitted;			/* drift_ppb is a fit, not a guess */
	uint32_t fit_n, fit_head;	/* samples in the window, next slot */
	int64_t fit_t[DISC_FIT_LEN];	/* local (RAW) time of each sample */
	int64_t fit_y[DISC_FIT_LEN];	/* its offset with our corrections taken out */
	uint32_t spike_run;		/* samples in a row far off the fit */
	uint64_t spikes;		/* samples not steered on: far off the fit */
	uint64_t fit_e[DISC_FIT_LEN];	/* its bound's half-width: the fit's weight */
};

/* The node's hybrid logical clock (hlc.c; Documentation/clock.md "HLC on entries"). */
struct nl_sock;
struct truthd_hlc {
	uint64_t now;			/* the clock (include/truth/hlc.h encoding) */
	uint64_t max_offset;		/* datagram stamps further ahead are refused, ns */
	uint64_t refused;		/* datagram stamps refused as too far ahead */
	bool ready;			/* transport hook installed, kernel looked for */
	/* truth.ko's per-namespace HLC, when commits are counted there */
	struct nl_sock *nl;		/* NULL: no module (or not used) */
	int family;			/* genl family id of "truth" */
	bool pull;			/* read the module's HLC before the next entry */
	uint64_t pushed;		/* largest applied HLC merged into the module */
	uint64_t k_merges, k_errors;	/* CLOCK_MERGE calls, failures */
	uint64_t k_cpu_ns;		/* this thread's CPU time in those calls */
	uint64_t k_wall_max_ns;		/* the longest call, CLOCK_MONOTONIC */
};

/* The fdatasync thread (durable.c). */
struct sync_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int efd;		/* eventfd: a sync finished */
	int fd;			/* handed to the thread, -1 = nothing */
	int result;		/* 0 or -errno of the last fdatasync */
	bool stop, done, running;
	bool busy;		/* loop side: a sync is in flight */
	uint64_t upto, gen;	/* what it covers */
	uint64_t t_start, t_done;	/* lat.c: the thread's fdatasync, ns */
};

struct truthd {
	struct truth_conf conf;
	const char *conf_path;
	struct truth_evloop loop;
	struct truth_ev ev_sig, ev_tick, ev_udp, ev_tcp, ev_unix, ev_sync;
	struct sync_thread sync;
	struct truth_ev ev_count;
	struct truth_counter *counter;
	uint64_t count_term, count_start, count_self_acked;
	bool count_leader;
	struct truth_fastpath *fp;	/* fastpath.c: attached filters or NULL */
	uint64_t fp_term;		/* term fp_match[] belongs to */
	uint64_t fp_match[TRUTH_CONF_MAX_PEERS];	/* handed to Raft, by conf.peers[] */
	struct raft_msg *held;		/* messages waiting for the disk */
	uint64_t *held_need;		/* durable index each waits for */
	size_t n_held, held_cap;
	int sigfd, tickfd, tcpfd, unixfd, lockfd;
	uint64_t tick_us;

	struct truth_tp tp;
	struct raft *raft;
	struct truth_wal *wal;
	struct truth_meta_store *meta;
	struct truth_sm *sm;		/* the replicated state machine (coord.c) */
	struct truth_sm_effects fx;
	int64_t sm_stamp;		/* last stamp proposed or applied, ns */
	uint64_t tick_index, tick_term;	/* the SM.TICK in flight */
	int64_t tick_deadline, tick_ns;	/* the deadline it was for, when proposed */
	uint64_t client_base;		/* connections' own client ids start here */
	enum raft_role last_role;	/* for log_role() */
	uint32_t last_leader;
	uint64_t bytes_since_snap;
	bool failed;			/* fail-stop after an I/O error */
	struct raft_msg *msg_buf;	/* a ready's messages, filtered */
	uint32_t msg_cap;

	/* clients */
	struct conn *conns;
	uint32_t n_conns;
	uint64_t next_client_id, next_ctx;
	struct conn **wq;		/* waiting writes, by index */
	size_t wq_len, wq_cap;
	struct conn **rq;		/* waiting reads */
	size_t rq_len, rq_cap;
	struct conn *resume_head;

	/* clock sync (clock.c) */
	struct {
		struct truth_probe *engine;
		struct truth_probe_clock clk;
		struct clock_chrony chrony;	/* clock_reference = chrony */
		struct clock_discipline disc;	/* clock_discipline = on */
		struct truth_probe_skew skew;	/* test-only skew of REALTIME */
		bool skew_ready;		/* skew initialised (first read) */
		uint64_t checked, contained;	/* test hooks: true time in the bound */
		struct truth_tsock sock;	/* timestamps on tp.fd */
		struct truth_clockbound_page *page;
		int timerfd;			/* one-shot, at the engine's deadline */
		struct truth_ev ev;
		/* test hooks: epsilon after each checked sample, the formula */
		uint32_t *test_eps;		/* ns, the first TRUTHD_TEST_EPS */
		uint32_t test_eps_n;
		uint64_t formula_checked, formula_bad;
	} clk;

	struct truthd_hlc hlc;		/* hlc.c */
	struct conn **cw;		/* replies held for commit-wait (coord.c) */
	size_t cw_len, cw_cap;
	int cw_timerfd;
	struct truth_ev ev_cw;
	uint64_t cw_count, cw_wait_ns, cw_max_ns;	/* commit-waits, total and longest wait */

	/* rebuild.c: truthd --rebuild */
	bool rebuilding;		/* marker present: Raft abstains */
	struct truth_rebuild_marker rb;

	/* stats */
	uint64_t writes, reads_lease, reads_index, redirects, snapshots;
	uint64_t acks_coalesced;	/* held acks a later ack covered, not sent */

	/* lat.c: the commit path's stages (INFO latency) */
	struct truthd_lat *lat;
	uint64_t loop_turns;		/* node_process() calls: one per epoll round */
	uint64_t sync_runs;		/* fdatasyncs started (thread or inline) */
	uint64_t sync_inline;		/* of which run in the loop (sync_here) */
	uint64_t ticks_skipped;		/* a follower's ticks spent in its own sync */
	uint64_t lat_sent_hi;		/* highest index in an APPEND of this round */
};

/* node.c */
int node_open(struct truthd *d);
void node_close(struct truthd *d);
void node_process(struct truthd *d);		/* run readies until quiet */
void node_tick(struct truthd *d);
void node_deliver(void *ctx, const struct raft_msg *m);
uint64_t node_peer_match(struct truthd *d, uint32_t id);

/* durable.c */
int sync_start(struct truthd *d);
void sync_stop(struct truthd *d);
void sync_kick(struct truthd *d);
bool sync_here_wanted(struct truthd *d);
bool sync_here(struct truthd *d);
uint64_t node_durable(struct truthd *d);
bool hold_msg(struct truthd *d, const struct raft_msg *m, uint64_t need);
void drop_held_above(struct truthd *d, uint64_t last);

/* count.c: commit counting through agent/counter */
int count_open(struct truthd *d);
void count_close(struct truthd *d);
void count_roles(struct truthd *d);
void count_self(struct truthd *d);
void count_peer(struct truthd *d, const struct raft_msg *m);
void count_poll(struct truthd *d);
uint64_t count_match(struct truthd *d, uint32_t node);
const char *count_path(struct truthd *d);

/* fastpath.c: the eBPF fast path, follower match indexes from the kernel */
struct truth_fastpath;
int fp_open(struct truthd *d);
void fp_close(struct truthd *d);
void fp_tick(struct truthd *d);

/* client.c */
int clients_open(struct truthd *d);
void clients_close(struct truthd *d);
int client_execute(void *ctx, struct truth_resp_session *s,
		   const struct truth_resp_request *req);
/* an op of c resolved: its reply is in c->s.out; feed the rest later */
void client_resolved(struct truthd *d, struct conn *c);
void clients_resume(struct truthd *d);
bool queue_push(struct conn ***q, size_t *len, size_t *cap, struct conn *c);

/* coord.c: agent/sm through the log */
int coord_open(struct truthd *d);
void coord_close(struct truthd *d);
uint64_t coord_new_client(struct truthd *d);
long coord_encode(struct truthd *d, struct conn *c, const struct truth_resp_request *req,
		  uint8_t **buf);
void coord_apply(struct truthd *d, const struct raft_entry *e, struct conn *mine);
void coord_read(struct truthd *d, struct conn *c, const struct truth_resp_request *req);
void coord_conn_gone(struct truthd *d, struct conn *gone);
void coord_tick(struct truthd *d);
long coord_save(struct truthd *d, uint8_t **data);
int coord_restore(struct truthd *d, const uint8_t *data, size_t len);
void coord_info(struct truthd *d, const struct truth_resp_info *r, struct truth_resp_out *o);

/* hlc.c: the node's HLC, merged with truth.ko's when it counts */
void hlc_loop(struct truthd *d);		/* each loop turn, before readies */
void hlc_applied(struct truthd *d);		/* after applying, before replies go */
void hlc_observe(struct truthd *d, uint64_t h);	/* an entry in our log: stay above it */
uint64_t hlc_entry(struct truthd *d, uint64_t min_pt);	/* a new entry's HLC */
void hlc_close(struct truthd *d);
void hlc_info(struct truthd *d, struct truth_resp_out *o);

/* clock.c */
int clock_open(struct truthd *d);
void clock_close(struct truthd *d);
void clock_read_tx(struct truthd *d);	/* TX times waiting on the error queue */
int clock_time_now(void *ctx, struct truth_resp_time *t);	/* ctx: a conn */
const char *clock_status_name(uint32_t status);
/*
 * The node's wall clock, ns since the epoch: CLOCK_REALTIME (plus the
 * test-only offset and drift when configured).  Everything truthd stamps
 * with a wall time reads it, so a test that skews one node skews all of it.
 */
int64_t truthd_realtime_ns(struct truthd *d);
/* A kernel timestamp (CLOCK_REALTIME ns) on the node's wall clock (skewed). */
int64_t truthd_stamp_ns(struct truthd *d, int64_t stamp);
/* clock_discipline.c */
void clock_discipline_open(struct truthd *d);
void clock_discipline_tick(struct truthd *d);
void clock_discipline_close(struct truthd *d);
void clock_discipline_info(struct truthd *d, struct truth_resp_out *o);
const char *clock_discipline_state_name(int st);
/* clock_chrony.c */
int clock_chrony_open(struct truthd *d);
void clock_chrony_close(struct truthd *d);
const char *clock_chrony_state_name(int st);
/* TRUTH.DEBUG (test_hooks only); INFO truth's clock lines */
void clock_debug(struct truthd *d, struct truth_resp_session *s,
		 const struct truth_resp_request *req);
void clock_info(struct truthd *d, struct truth_resp_out *o);

/* rebuild.c */
int rebuild_prepare(struct truthd *d);	/* --rebuild: move aside, mark */
int rebuild_open(struct truthd *d);	/* after node_open: honour a marker */
void rebuild_check(struct truthd *d);	/* each tick: clear once caught up */

/*
 * lat.c: stages of the commit path, by log index.  A leader's entry runs
 * PROPOSED .. REPLIED, a follower's RECEIVED .. ACK_SENT.
 */
enum lat_stage {
	LAT_PROPOSED,		/* leader: a client's write proposed */
	LAT_RECEIVED,		/* follower: the APPEND carrying it received */
	LAT_APPENDED,		/* written to the WAL (not synced) */
	LAT_SENT,		/* leader: the APPEND carrying it left */
	LAT_SYNC_KICK,		/* the sync thread told to sync it */
	LAT_SYNC_START,		/* the thread's fdatasync began */
	LAT_SYNC_DONE,		/* and returned */
	LAT_SYNC_SEEN,		/* the loop learned it */
	LAT_ACKED,		/* leader: the first follower's ack received */
	LAT_COMMITTED,		/* leader: the commit index reached it */
	LAT_APPLIED,		/* applied to the state machine */
	LAT_REPLIED,		/* leader: the reply written to the socket */
	LAT_ACK_SENT,		/* follower: the ack for it left */
	LAT_STAGES
};
enum lat_interval {
	LAT_I_L_PROPOSE_APPEND, LAT_I_L_APPEND_SENT, LAT_I_L_APPEND_KICK,
	LAT_I_L_KICK_START, LAT_I_L_FDATASYNC, LAT_I_L_DONE_SEEN,
	LAT_I_L_SENT_ACK, LAT_I_L_PROPOSE_SELF, LAT_I_L_PROPOSE_ACK,
	LAT_I_L_PROPOSE_COMMIT, LAT_I_L_COMMIT_APPLY, LAT_I_L_APPLY_REPLY,
	LAT_I_L_TOTAL,
	LAT_I_F_RECV_APPEND, LAT_I_F_APPEND_KICK, LAT_I_F_KICK_START,
	LAT_I_F_FDATASYNC, LAT_I_F_DONE_SEEN, LAT_I_F_SEEN_ACK, LAT_I_F_TOTAL,
	LAT_NINTERVALS
};
#define LAT_BUCKETS	320
int lat_open(struct truthd *d);
void lat_close(struct truthd *d);
uint64_t lat_now(void);		/* CLOCK_MONOTONIC, ns */
void lat_start(struct truthd *d, bool leader, uint64_t from, uint64_t to);
void lat_stamp_at(struct truthd *d, int stage, uint64_t upto, uint64_t t);
#define lat_stamp(d, stage, upto)	lat_stamp_at(d, stage, upto, 0)
void lat_replied(struct truthd *d, uint64_t index);
void lat_ack_sent(struct truthd *d, uint64_t upto);
void lat_info(struct truthd *d, const struct truth_resp_info *r, struct truth_resp_out *o);

/* info.c */
void info_truth(void *ctx, struct truth_resp_session *s,
		const struct truth_resp_info *r, struct truth_resp_out *text);
const char *role_name(enum raft_role r);

#endif /* _TRUTHD_H */
