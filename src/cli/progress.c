/* A progress bar for long sweeps, on stderr and only on a terminal:
 * redrawn at most ten times a second, erased when done.  A warning
 * printed meanwhile (cli_warn(), cli_error()) first erases the bar, which
 * is drawn again below it: the line is never shared.  One bar at a time,
 * updated and interrupted from one thread. */
#include <unistd.h>
#include "cli.h"

struct _CliProgress {
	char *label;
	guint64 total;
	gint64 start;
	gint64 last_draw;
	guint64 done;
	gboolean drawn;   /* on the screen now */
};

static CliProgress *current;

CliProgress *
cli_progress_new (const char *label, guint64 total)
{
	if (!isatty (STDERR_FILENO))
		return NULL;
	CliProgress *p = g_new0 (CliProgress, 1);
	p->label = g_strdup (label);
	p->total = total;
	p->start = g_get_monotonic_time ();
	current = p;
	return p;
}

static void
draw (CliProgress *p, gint64 now)
{
	p->last_draw = now;
	double secs = (double) (now - p->start) / G_USEC_PER_SEC;
	double rate = secs > 0 ? (double) p->done / secs : 0;
	const int width = 30;
	int filled = p->total ? (int) ((double) width * (double) MIN (p->done, p->total) / (double) p->total) : 0;
	char bar[64];
	for (int i = 0; i < width; i++)
		bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
	bar[width] = '\0';
	fprintf (stderr, "\r%s [%s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %3.0f%% %.0f msg/s ",
	         p->label, bar, p->done, p->total,
	         p->total ? 100.0 * (double) p->done / (double) p->total : 100.0, rate);
	fflush (stderr);
	p->drawn = TRUE;
}

void
cli_progress_update (CliProgress *p, guint64 done)
{
	if (!p)
		return;
	p->done = done;
	gint64 now = g_get_monotonic_time ();
	if (now - p->last_draw < G_USEC_PER_SEC / 10 && done < p->total)
		return;
	draw (p, now);
}

static void
erase (CliProgress *p)
{
	if (p->drawn) {
		fprintf (stderr, "\r\033[K");
		fflush (stderr);
		p->drawn = FALSE;
	}
}

void
cli_progress_hide (void)
{
	if (current)
		erase (current);
}

void
cli_progress_show (void)
{
	if (current && current->last_draw)
		draw (current, g_get_monotonic_time ());
}

void
cli_progress_free (CliProgress *p)
{
	if (!p)
		return;
	erase (p);
	if (current == p)
		current = NULL;
	g_free (p->label);
	g_free (p);
}
