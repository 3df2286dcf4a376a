/* Waiting for the next commit of a database (events --follow, publish
 * --follow, hooks): inotify on its data file, which a writer's commit
 * modifies (LMDB writes it with pwrite; lock.mdb changes for readers too,
 * so it is not watched), with a poll every few seconds in case a change
 * went unnoticed.  SIGINT and SIGTERM end the wait. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "cli.h"

#define FALLBACK_POLL_MS 5000

static volatile sig_atomic_t stop;

static void
on_signal (int sig)
{
	stop = 1;
}

void
cli_watch_init (CliWatch *w, const char *db_dir)
{
	w->fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
	g_autofree char *data = g_build_filename (db_dir, "data.mdb", NULL);
	if (w->fd >= 0 && inotify_add_watch (w->fd, data, IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB) < 0) {
		close (w->fd);
		w->fd = -1;
	}
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction (SIGINT, &sa, NULL);
	sigaction (SIGTERM, &sa, NULL);
	signal (SIGPIPE, SIG_IGN);
}

gboolean
cli_watch_wait (CliWatch *w)
{
	if (stop)
		return FALSE;
	struct pollfd p = { w->fd, POLLIN, 0 };
	int n = poll (&p, w->fd >= 0 ? 1 : 0, FALLBACK_POLL_MS);
	if (n > 0) {
		char buf[4096];
		while (read (w->fd, buf, sizeof buf) > 0)
			;  /* one wake-up reads everything new */
	}
	return !stop;
}

void
cli_watch_clear (CliWatch *w)
{
	if (w->fd >= 0)
		close (w->fd);
	w->fd = -1;
}
