// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truthd: the agent.  Wires the parts together in order and unwinds in
 * reverse: configuration, data directory lock, storage and Raft, the peer
 * socket, the client listeners, signals and the tick timer, then the event
 * loop until SIGTERM or SIGINT (exit 0) or a fail-stop (exit 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"
#include "truthd/truthd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: truthd --config FILE [--set KEY=VALUE ...]\n"
		"       truthd --check-config --config FILE [--set KEY=VALUE ...]\n"
		"       truthd --rebuild --config FILE [--set KEY=VALUE ...]\n"
		"Runs one member of a truth group (Documentation/truthd.md).\n"
		"\n"
		"  --config FILE       the configuration (truthd.conf.example)\n"
		"  --set KEY=VALUE     override one key of FILE\n"
		"  --check-config      check FILE and the --set values, then exit\n"
		"  --rebuild           this node's log is lost or corrupt: move its log and\n"
		"                      snapshots into data_dir/rebuild-<UTC time>/ (nothing is\n"
		"                      deleted), then run, copying the log from the leader;\n"
		"                      the node does not vote until it has caught up\n"
		"                      (Documentation/admin-guide.md \"Rebuilding a node\")\n"
		"\n"
		"example, after \"refusing to start\" names a corrupt segment:\n"
		"  systemctl stop truthd\n"
		"  truthd --rebuild --config /etc/truth/truthd.conf\n");
}

static void conf_err(void *ctx, const char *where, const char *key,
		     const char *reason)
{
	fprintf(stderr, "truthd: %s: %s: %s\n", where, key, reason);
}

static int mkdir_p(const char *path)
{
	char buf[512];
	size_t i;

	snprintf(buf, sizeof(buf), "%s", path);
	for (i = 1; buf[i]; i++)
		if (buf[i] == '/') {
			buf[i] = '\0';
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -errno;
			buf[i] = '/';
		}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void sig_event(struct truth_ev *ev, uint32_t events)
{
	struct truthd *d = ev->arg;
	struct signalfd_siginfo si;

	while (read(ev->fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: shutting down", si.ssi_signo);
		truth_evloop_stop(&d->loop);
	}
}

static void tick_event(struct truth_ev *ev, uint32_t events)
{
	node_tick(ev->arg);
	fp_tick(ev->arg);
	rebuild_check(ev->arg);
}

static void udp_event(struct truth_ev *ev, uint32_t events)
{
	struct truthd *d = ev->arg;

	d->tp.now_us = truth_mono_us();
	/* before the receive, and it clears EPOLLERR (TX times queued) */
	clock_read_tx(d);
	truth_tp_recv(&d->tp, node_deliver, d);
}

static void idle(void *arg)
{
	node_process(arg);
}

static int load_conf(struct truthd *d, int argc, char **argv, bool *check,
		     bool *rebuild)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "rebuild", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *sets[64];
	int nsets = 0, errors, o, i;

	truth_conf_defaults(&d->conf);
	while ((o = getopt_long(argc, argv, "c:s:kh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			d->conf_path = optarg;
			break;
		case 's':
			if (nsets == 64) {
				fprintf(stderr, "truthd: too many --set\n");
				return -1;
			}
			sets[nsets++] = optarg;
			break;
		case 'k':
			*check = true;
			break;
		case 'r':
			*rebuild = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (!d->conf_path || optind != argc) {
		usage(stderr);
		return -1;
	}
	if (*check && *rebuild) {
		fprintf(stderr, "truthd: --check-config and --rebuild exclude each other\n");
		return -1;
	}
	errors = truth_conf_load(&d->conf, d->conf_path, conf_err, NULL);
	if (errors < 0) {
		fprintf(stderr, "truthd: %s: cannot read: %s\n", d->conf_path,
			strerror(errno));
		return -1;
	}
	for (i = 0; i < nsets; i++) {
		char *eq = strchr(sets[i], '=');

		if (!eq) {
			conf_err(NULL, "--set", sets[i], "expected KEY=VALUE");
			errors++;
			continue;
		}
		*eq = '\0';
		errors += truth_conf_set(&d->conf, "--set", sets[i], eq + 1, conf_err, NULL);
		*eq = '=';
	}
	errors += truth_conf_finish(&d->conf, d->conf_path, conf_err, NULL);
	return errors ? -1 : 0;
}

static int lock_dir(struct truthd *d)
{
	char path[600];
	int ret = mkdir_p(d->conf.data_dir);

	if (ret) {
		log_err("data_dir %s: %s", d->conf.data_dir, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/LOCK", d->conf.data_dir);
	d->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lockfd < 0 || flock(d->lockfd, LOCK_EX | LOCK_NB)) {
		log_err("data_dir %s: %s (another truthd uses it?)", d->conf.data_dir,
			strerror(errno));
		return -EBUSY;
	}
	return 0;
}

static int start(struct truthd *d)
{
	sigset_t set;
	uint32_t i;
	int ret;

	ret = node_open(d);
	if (ret)
		return ret;
	ret = rebuild_open(d);
	if (ret)
		return ret;
	ret = truth_tp_init(&d->tp, d->conf.node_id, d->conf.group_id, d->conf.key,
			    d->conf.client_advertise);
	if (ret)
		return ret;
	/* bigval: the longest entry a peer may send us in fragments */
	d->tp.msg_max = truthd_entry_max(&d->conf) + TRUTH_TP_ENTRY_HDR;
	for (i = 0; i < d->conf.n_peers; i++) {
		const struct truth_conf_peer *p = &d->conf.peers[i];

		ret = truth_tp_add_peer(&d->tp, p->id, (struct sockaddr *)&p->addr.sa,
					p->addr.len);
		if (ret)
			return ret;
	}
	ret = truth_tp_bind(&d->tp, (struct sockaddr *)&d->conf.peer_listen.sa,
			    d->conf.peer_listen.len);
	if (ret) {
		log_err("peer_listen %s: %s", d->conf.peer_listen.text, strerror(-ret));
		return ret;
	}
	ret = truth_evloop_init(&d->loop);
	if (ret)
		return ret;
	d->loop.idle = idle;
	d->loop.idle_arg = d;
	ret = truth_ev_add(&d->loop, &d->ev_udp, d->tp.fd, EPOLLIN, udp_event, d);
	if (ret)
		return ret;
	ret = count_open(d);
	if (ret)
		return ret;
	ret = fp_open(d);
	if (ret)
		return ret;
	ret = clock_open(d);
	if (ret)
		return ret;
	/* blocked before any thread exists, so only the signalfd sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = truth_signalfd(&set);
	if (d->sigfd < 0)
		return d->sigfd;
	ret = truth_ev_add(&d->loop, &d->ev_sig, d->sigfd, EPOLLIN, sig_event, d);
	if (ret)
		return ret;
	ret = sync_start(d);
	if (ret)
		return ret;
	ret = clients_open(d);
	if (ret)
		return ret;
	d->tickfd = truth_timerfd_periodic(d->tick_us);
	if (d->tickfd < 0)
		return d->tickfd;
	return truth_ev_add(&d->loop, &d->ev_tick, d->tickfd, EPOLLIN, tick_event, d);
}

int main(int argc, char **argv)
{
	static struct truthd d;
	bool check = false, rebuild = false;
	int ret;

	d.clk.timerfd = -1;
	d.sigfd = d.tickfd = d.tcpfd = d.unixfd = d.lockfd = -1;
	d.loop.epfd = -1;
	if (load_conf(&d, argc, argv, &check, &rebuild)) {
		if (rebuild)
			fprintf(stderr, "truthd: --rebuild refused: nothing was changed\n");
		return 1;
	}
	if (check) {
		printf("%s: ok\n", d.conf_path);
		return 0;
	}
	truth_log_level = d.conf.log_level;
	if (!d.conf.fsync)
		log_warn("fsync = off: acknowledged writes can be lost on power failure (unsafe, tests only)");
	ret = lock_dir(&d);
	if (ret && rebuild)
		fprintf(stderr, "truthd: --rebuild refused: nothing was changed\n");
	if (!ret && rebuild)
		ret = rebuild_prepare(&d);
	if (!ret)
		ret = start(&d);
	if (!ret) {
		log_info("node %u of group %u: peers on %s, clients on %s%s%s", d.conf.node_id,
			 d.conf.group_id, d.conf.peer_listen.text,
			 d.conf.has_client_listen ? d.conf.client_listen.text : "-",
			 d.conf.client_unix[0] ? " and " : "", d.conf.client_unix);
		ret = truth_evloop_run(&d.loop);
		if (ret)
			log_err("event loop: %s", strerror(-ret));
	}
	clients_close(&d);
	sync_stop(&d);
	clock_close(&d);
	fp_close(&d);
	count_close(&d);
	node_close(&d);
	truth_tp_fini(&d.tp);
	if (d.tickfd >= 0)
		close(d.tickfd);
	if (d.sigfd >= 0)
		close(d.sigfd);
	truth_evloop_fini(&d.loop);
	if (ret || d.failed) {
		log_err("stopped after an error");
		return 1;
	}
	log_info("stopped cleanly");
	return 0;
}
