/* Run a command and write its CPU time and peak RSS to a file.
 *
 * A process's peak RSS survives execve(): a command started straight from
 * the Python harness would report at least the harness's own RSS.  This
 * small program forks the command from itself, so the figure is the
 * command's.  Usage: spawn OUTFILE COMMAND [ARG...]; OUTFILE gets
 * "USER_SECONDS SYSTEM_SECONDS PEAK_RSS_KIB"; the exit status is the
 * command's. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
	if (argc < 3) {
		fprintf (stderr, "usage: spawn OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	pid_t pid = fork ();
	if (pid < 0) {
		perror ("fork");
		return 2;
	}
	if (pid == 0) {
		execvp (argv[2], argv + 2);
		perror (argv[2]);
		_exit (127);
	}
	int status;
	struct rusage ru;
	if (wait4 (pid, &status, 0, &ru) < 0) {
		perror ("wait4");
		return 2;
	}
	FILE *f = fopen (argv[1], "w");
	if (!f) {
		perror (argv[1]);
		return 2;
	}
	fprintf (f, "%ld.%06ld %ld.%06ld %ld\n", (long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec,
	         (long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec, ru.ru_maxrss);
	fclose (f);
	return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}
