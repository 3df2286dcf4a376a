/* A socketmap client for the benchmarks: asks serve about the addresses
 * of a list (one a line), over one UNIX connection, and prints the
 * lookups per second.
 *
 * Usage: bench-socketmap SOCKET LIST COUNT [WINDOW]
 *   COUNT   lookups in all (the list is cycled)
 *   WINDOW  requests in flight: 1 (the default) waits for each answer
 *           before the next, as Postfix does; more pipelines them.
 * Prints "lookups SECONDS PER-SECOND SUPPRESSED". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char **addrs;
static size_t n_addrs;

static void
load (const char *path)
{
	FILE *f = fopen (path, "r");
	if (!f) {
		perror (path);
		exit (2);
	}
	size_t cap = 1024;
	addrs = malloc (cap * sizeof *addrs);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	while ((n = getline (&line, &lcap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n_addrs == cap)
			addrs = realloc (addrs, (cap *= 2) * sizeof *addrs);
		addrs[n_addrs++] = strdup (line);
	}
	free (line);
	fclose (f);
}

int
main (int argc, char **argv)
{
	if (argc < 4) {
		fprintf (stderr, "usage: bench-socketmap SOCKET LIST COUNT [WINDOW]\n");
		return 2;
	}
	load (argv[2]);
	long count = atol (argv[3]), window = argc > 4 ? atol (argv[4]) : 1;
	int fd = socket (AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strncpy (sa.sun_path, argv[1], sizeof sa.sun_path - 1);
	if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
		perror (argv[1]);
		return 2;
	}
	static char out[1 << 20], in[1 << 20];
	size_t have = 0;
	long sent = 0, answered = 0, suppressed = 0;
	struct timespec t0, t1;
	clock_gettime (CLOCK_MONOTONIC, &t0);
	while (answered < count) {
		size_t olen = 0;
		while (sent < count && sent - answered < window && olen < sizeof out - 1024) {
			const char *a = addrs[sent % n_addrs];
			olen += (size_t) snprintf (out + olen, sizeof out - olen, "%zu:access %s,", strlen (a) + 7, a);
			sent++;
		}
		for (size_t off = 0; off < olen;) {
			ssize_t w = write (fd, out + off, olen - off);
			if (w <= 0) {
				perror ("write");
				return 1;
			}
			off += (size_t) w;
		}
		/* Read until every answer in flight is complete (window 1: one). */
		while (answered < sent) {
			ssize_t r = read (fd, in + have, sizeof in - have);
			if (r <= 0) {
				fprintf (stderr, "server closed the connection\n");
				return 1;
			}
			have += (size_t) r;
			size_t p = 0;
			for (;;) {
				char *colon = memchr (in + p, ':', have - p);
				if (!colon)
					break;
				size_t len = strtoul (in + p, NULL, 10), start = (size_t) (colon - in) + 1;
				if (start + len + 1 > have)
					break;
				if (len >= 2 && in[start] == 'O' && in[start + 1] == 'K')
					suppressed++;
				p = start + len + 1;
				answered++;
			}
			memmove (in, in + p, have - p);
			have -= p;
			if (window > 1)
				break;  /* send more while these come in */
		}
	}
	clock_gettime (CLOCK_MONOTONIC, &t1);
	double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf ("%ld %.3f %.0f %ld\n", answered, secs, (double) answered / secs, suppressed);
	close (fd);
	return 0;
}
