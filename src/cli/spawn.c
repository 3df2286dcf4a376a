/* Running a hook's command: `/bin/sh -c COMMAND`, a change's JSON on its
 * standard input, its standard error kept (the end of it) for the error
 * message, its standard output ours, and a time limit.
 *
 * The command runs in a process group of its own, so that a pipeline or
 * a script's children are killed with it when the time is up (SIGTERM,
 * then SIGKILL two seconds later).  The runner learns of the exit through
 * a SIGCHLD self-pipe rather than by the output's end: a command that
 * leaves a daemon behind holding its output still ends when it exits.
 * Input and output go through one poll(2) loop, so a command that writes
 * a lot before it reads never deadlocks with us.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"

#define OUTPUT_KEEP 4096
#define KILL_GRACE_US (2 * G_USEC_PER_SEC)

static int chld_pipe[2] = { -1, -1 };

static void
on_sigchld (int sig)
{
	int saved = errno;
	if (write (chld_pipe[1], "", 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = saved;
}

static gboolean
watch_children (GError **error)
{
	if (chld_pipe[0] >= 0)
		return TRUE;
	if (pipe2 (chld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "pipe: %s", g_strerror (errno));
		return FALSE;
	}
	struct sigaction sa = { 0 };
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction (SIGCHLD, &sa, NULL);
	signal (SIGPIPE, SIG_IGN);
	return TRUE;
}

static void
keep_output (GString *out, const char *buf, gsize n)
{
	g_string_append_len (out, buf, (gssize) n);
	if (out->len > 2 * OUTPUT_KEEP)
		g_string_erase (out, 0, (gssize) (out->len - OUTPUT_KEEP));
}

/* Read what @fd has now; FALSE at its end (or on an error). */
static gboolean
read_some (int fd, GString *out)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read (fd, buf, sizeof buf);
		if (n > 0) {
			keep_output (out, buf, (gsize) n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

gboolean
cli_run_command (const char *command, const char *input, gsize len, const char *const *env,
                 guint timeout_ms, CliRun *run, GError **error)
{
	memset (run, 0, sizeof *run);
	run->output = g_string_new (NULL);
	if (!watch_children (error))
		return FALSE;
	int in[2], out[2];
	if (pipe2 (in, O_CLOEXEC) < 0) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "pipe: %s", g_strerror (errno));
		return FALSE;
	}
	if (pipe2 (out, O_CLOEXEC) < 0) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "pipe: %s", g_strerror (errno));
		close (in[0]);
		close (in[1]);
		return FALSE;
	}
	/* Everything the child needs is made before fork(): after it, only
	 * async-signal-safe calls. */
	char **envp = g_get_environ ();
	for (gsize i = 0; env && env[i] && env[i + 1]; i += 2)
		envp = g_environ_setenv (envp, env[i], env[i + 1], TRUE);
	char *argv[] = { (char *) "sh", (char *) "-c", (char *) command, NULL };
	pid_t pid = fork ();
	if (pid == 0) {
		setpgid (0, 0);
		dup2 (in[0], 0);
		dup2 (out[1], 2);
		signal (SIGPIPE, SIG_DFL);
		signal (SIGCHLD, SIG_DFL);
		execve ("/bin/sh", argv, envp);
		_exit (127);
	}
	int saved = errno;
	g_strfreev (envp);
	close (in[0]);
	close (out[1]);
	if (pid < 0) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "fork: %s", g_strerror (saved));
		close (in[1]);
		close (out[0]);
		return FALSE;
	}
	setpgid (pid, pid);  /* as the child does: whoever runs first */
	fcntl (in[1], F_SETFL, O_NONBLOCK);
	fcntl (out[0], F_SETFL, O_NONBLOCK);

	gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000, kill_at = 0;
	gsize written = 0;
	int in_fd = in[1], out_fd = out[0];
	if (len == 0) {
		close (in_fd);
		in_fd = -1;
	}
	gboolean exited = FALSE;
	while (!exited) {
		pid_t r = waitpid (pid, &run->status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR)) {
			exited = TRUE;
			break;
		}
		gint64 now = g_get_monotonic_time ();
		if (!run->timed_out && now >= deadline) {
			run->timed_out = TRUE;
			kill (-pid, SIGTERM);
			kill_at = now + KILL_GRACE_US;
		} else if (kill_at && now >= kill_at) {
			kill (-pid, SIGKILL);
			kill_at = 0;
		}
		gint64 until = run->timed_out ? (kill_at ? kill_at : now + G_USEC_PER_SEC) : deadline;
		struct pollfd p[3] = {
			{ chld_pipe[0], POLLIN, 0 },
			{ out_fd, POLLIN, 0 },
			{ in_fd, POLLOUT, 0 },
		};
		int n = poll (p, 3, (int) MAX ((until - now + 999) / 1000, 1));
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (p[0].revents) {
			char drain[64];
			while (read (chld_pipe[0], drain, sizeof drain) > 0)
				;
		}
		if (out_fd >= 0 && p[1].revents && !read_some (out_fd, run->output)) {
			close (out_fd);
			out_fd = -1;
		}
		if (in_fd >= 0 && p[2].revents) {
			ssize_t w = write (in_fd, input + written, len - written);
			if (w > 0)
				written += (gsize) w;
			/* Done, or the command stopped reading (EPIPE): its business. */
			if (written == len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close (in_fd);
				in_fd = -1;
			}
		}
	}
	if (out_fd >= 0) {
		read_some (out_fd, run->output);  /* what it wrote before it exited */
		close (out_fd);
	}
	if (in_fd >= 0)
		close (in_fd);
	/* Children the command left in its group are not ours to wait for;
	 * those the time limit was for are killed with it. */
	if (run->timed_out)
		kill (-pid, SIGKILL);
	if (!exited) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "waiting for the command: %s", g_strerror (errno));
		return FALSE;
	}
	return TRUE;
}

void
cli_run_clear (CliRun *run)
{
	if (run->output)
		g_string_free (run->output, TRUE);
	run->output = NULL;
}

gboolean
cli_run_ok (const CliRun *run)
{
	return !run->timed_out && WIFEXITED (run->status) && WEXITSTATUS (run->status) == 0;
}

char *
cli_run_describe (const CliRun *run, guint timeout_ms)
{
	GString *s = g_string_new (NULL);
	if (run->timed_out)
		g_string_append_printf (s, "timed out after %u s", timeout_ms / 1000);
	else if (WIFEXITED (run->status))
		g_string_append_printf (s, "exit %d", WEXITSTATUS (run->status));
	else if (WIFSIGNALED (run->status))
		g_string_append_printf (s, "killed by signal %d", WTERMSIG (run->status));
	else
		g_string_append (s, "failed");
	/* The last line it wrote says why, as a rule. */
	if (run->output && run->output->len) {
		g_auto (GStrv) lines = g_strsplit (run->output->str, "\n", -1);
		const char *last = NULL;
		for (char **l = lines; *l; l++)
			if (*g_strstrip (*l))
				last = *l;
		if (last) {
			g_autofree char *safe = cli_safe (last);
			g_string_append_printf (s, ": %.300s", safe);
		}
	}
	return g_string_free (s, FALSE);
}
