/* Waiting for the next commit of a database (events --follow, publish
 * --follow, hooks run --follow): inotify on the database directory for
 * data.mdb, which a writer's commit modifies (LMDB writes it with pwrite;
 * lock.mdb changes for readers too, so it is not what we wait for), with
 * a poll every few seconds in case a change went unnoticed.  The
 * directory rather than the file: `prune --compact` renames a new
 * data.mdb over the old one, and a watch on the file would stay on the
 * old inode.  SIGINT and SIGTERM end the wait. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "cli.h"

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
	if (w->fd >= 0 &&
	    inotify_add_watch (w->fd, db_dir, IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_TO | IN_CREATE) < 0) {
		close (w->fd);
		w->fd = -1;
	}
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigaction (SIGINT, &sa, NULL);
	sigaction (SIGTERM, &sa, NULL);
	signal (SIGPIPE, SIG_IGN);
}

/* Read every queued event; TRUE when one was about data.mdb. */
static gboolean
drain (int fd)
{
	gboolean data = FALSE;
	char buf[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
	ssize_t n;
	while ((n = read (fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *) p;
			if (e->len && strcmp (e->name, "data.mdb") == 0)
				data = TRUE;
			p += sizeof *e + e->len;
		}
	}
	return data;
}

gboolean
cli_watch_wait_ms (CliWatch *w, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
	while (!stop) {
		gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
		if (left <= 0)
			return TRUE;
		struct pollfd p = { w->fd, POLLIN, 0 };
		int n = poll (&p, w->fd >= 0 ? 1 : 0, (int) MIN (left, (gint64) G_MAXINT));
		if (n < 0 && errno != EINTR)
			return TRUE;  /* cannot wait: let the caller look now */
		if (n > 0 && drain (w->fd))
			return TRUE;
	}
	return FALSE;
}

gboolean
cli_watch_wait (CliWatch *w)
{
	return cli_watch_wait_ms (w, CLI_WATCH_FALLBACK_MS);
}

gboolean
cli_watch_stopping (void)
{
	return stop != 0;
}

void
cli_watch_clear (CliWatch *w)
{
	if (w->fd >= 0)
		close (w->fd);
	w->fd = -1;
}
