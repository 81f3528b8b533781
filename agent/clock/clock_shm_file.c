// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * truth clock: creating the clockbound page's file (/run/truth/clockbound)
 * for the writer.  The page is built in a temporary file and renamed into
 * place, so a reader never maps a half-initialised file; readers that
 * mapped an older file keep a bound that ages into FREE_RUNNING.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock/probe.h"

#define PAGE_FILE_SIZE	4096	/* one page; the struct is far smaller */

struct truth_clockbound_page *truth_clock_shm_create(const char *path,
						     int32_t clock_id)
{
	struct truth_clockbound_page *p;
	char tmp[4096];
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	/* world-readable: any local program may read the bound */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if (fchmod(fd, 0644) || ftruncate(fd, PAGE_FILE_SIZE))
		goto fail;
	p = mmap(NULL, PAGE_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	truth_clock_shm_init(p, clock_id);
	if (rename(tmp, path)) {
		e = errno;
		munmap(p, PAGE_FILE_SIZE);
		errno = e;
		goto fail;
	}
	close(fd);
	return p;
fail:
	e = errno;
	close(fd);
	unlink(tmp);
	errno = e;
	return NULL;
}

void truth_clock_shm_unmap(struct truth_clockbound_page *p)
{
	if (p)
		munmap(p, PAGE_FILE_SIZE);
}
