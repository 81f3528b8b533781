/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for VM selftests: load and unload truth.ko through the syscalls
 * (no dependency on kmod tools).  Header-only so each test program stays a
 * single file.  TRUTH_KO overrides the module's path.
 */
#ifndef _TRUTH_SELFTEST_KMOD_H
#define _TRUTH_SELFTEST_KMOD_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TRUTH_KO_DEFAULT "/truth/kmod/truth.ko"

static inline const char *truth_ko_path(void)
{
	const char *p = getenv("TRUTH_KO");

	return p && *p ? p : TRUTH_KO_DEFAULT;
}

/* Whether truth.ko is loaded: /sys/module/truth exists. */
static inline bool truth_module_loaded(void)
{
	return access("/sys/module/truth", F_OK) == 0;
}

/* Load truth.ko; 0 or -errno.  Already loaded counts as success. */
static inline int truth_module_load(void)
{
	int fd, ret;

	if (truth_module_loaded())
		return 0;
	fd = open(truth_ko_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0);
	ret = ret < 0 ? -errno : 0;
	close(fd);
	if (ret == -EEXIST)
		ret = 0;
	return ret;
}

/*
 * Unload truth.ko; 0 or -errno.  Retries for a moment while the module is
 * still busy (sockets closing, RCU callbacks pending).
 */
static inline int truth_module_unload(void)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (syscall(SYS_delete_module, "truth", O_NONBLOCK) == 0)
			return 0;
		if (errno == ENOENT)
			return 0;
		if (errno != EAGAIN && errno != EBUSY && errno != EWOULDBLOCK)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

#endif /* _TRUTH_SELFTEST_KMOD_H */
