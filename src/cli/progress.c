/* A progress bar for long sweeps, on stderr and only on a terminal:
 * redrawn at most ten times a second, erased when done. */
#include <unistd.h>
#include "cli.h"

struct _CliProgress {
	char *label;
	guint64 total;
	gint64 start;
	gint64 last_draw;
};

CliProgress *
cli_progress_new (const char *label, guint64 total)
{
	if (!isatty (STDERR_FILENO))
		return NULL;
	CliProgress *p = g_new0 (CliProgress, 1);
	p->label = g_strdup (label);
	p->total = total;
	p->start = g_get_monotonic_time ();
	return p;
}

void
cli_progress_update (CliProgress *p, guint64 done)
{
	if (!p)
		return;
	gint64 now = g_get_monotonic_time ();
	if (now - p->last_draw < G_USEC_PER_SEC / 10 && done < p->total)
		return;
	p->last_draw = now;
	double secs = (double) (now - p->start) / G_USEC_PER_SEC;
	double rate = secs > 0 ? (double) done / secs : 0;
	const int width = 30;
	int filled = p->total ? (int) ((double) width * (double) MIN (done, p->total) / (double) p->total) : 0;
	char bar[64];
	for (int i = 0; i < width; i++)
		bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
	bar[width] = '\0';
	fprintf (stderr, "\r%s [%s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %3.0f%% %.0f msg/s ",
	         p->label, bar, done, p->total,
	         p->total ? 100.0 * (double) done / (double) p->total : 100.0, rate);
	fflush (stderr);
}

void
cli_progress_free (CliProgress *p)
{
	if (!p)
		return;
	fprintf (stderr, "\r\033[K");
	fflush (stderr);
	g_free (p->label);
	g_free (p);
}
