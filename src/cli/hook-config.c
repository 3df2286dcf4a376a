/* [hooks] in bouncedb.conf: which commands hear of which changes.
 *
 * One section, a key per setting of a hook, named NAME.SETTING:
 *
 *     [hooks]
 *     mailman.command = /usr/share/bouncedb/hooks/mailman3 --url ...
 *     mailman.changes = suppressed;complaint;inactive;removed
 *
 * rather than a section per hook ([hook mailman]): the configuration
 * stays one list of sections with fixed names, and what the runner, prune
 * and `bouncedb hooks` need is read here once.  A mistake (an unknown
 * setting, a filter word that matches nothing, a hook without a command)
 * is an error naming the key: a hook that silently hears nothing is worse
 * than one that does not start.
 */
#include <string.h>
#include "cli.h"

#define DEFAULT_TIMEOUT 60

/* What a change's disposition can be (classify.h, and "manual" for add
 * and remove), and what a change can be called (store.h). */
static const char *const known_dispositions[] = {
	"suppress", "complaint", "soft", "sender", "success", "delay", "ignore", "manual", NULL,
};
static const char *const known_changes[] = {
	"suppressed", "complaint", "inactive", "added", "imported", "confirmed", "removed",
	"deleted", "soft", "cleared", "sender", "tally", NULL,
};
static const char *const settings[] = { "command", "dispositions", "changes", "timeout", NULL };

static gboolean
in_list (const char *const *list, const char *word)
{
	for (; list && *list; list++)
		if (word && strcmp (*list, word) == 0)
			return TRUE;
	return FALSE;
}

gboolean
cli_hook_name_valid (const char *name)
{
	gsize n = strlen (name);
	if (n == 0 || n > 64)
		return FALSE;
	for (const char *p = name; *p; p++)
		if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-' && *p != '_')
			return FALSE;
	return TRUE;
}

void
cli_hook_free (CliHook *h)
{
	if (!h)
		return;
	g_free (h->name);
	g_free (h->cursor);
	g_free (h->command);
	g_strfreev (h->dispositions);
	g_strfreev (h->changes);
	g_free (h);
}

static CliHook *
find_or_add (GPtrArray *hooks, const char *name)
{
	for (guint i = 0; i < hooks->len; i++) {
		CliHook *h = hooks->pdata[i];
		if (strcmp (h->name, name) == 0)
			return h;
	}
	CliHook *h = g_new0 (CliHook, 1);
	h->name = g_strdup (name);
	h->cursor = g_strconcat ("hook/", name, NULL);
	h->timeout_ms = DEFAULT_TIMEOUT * 1000;
	g_ptr_array_add (hooks, h);
	return h;
}

static gboolean
bad (GError **error, const char *key, const char *why)
{
	g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "[hooks] %s: %s", key, why);
	return FALSE;
}

/* A filter list, every word of it known. */
static gboolean
read_filter (GKeyFile *kf, const char *key, const char *const *known, char ***out, GError **error)
{
	g_strfreev (*out);
	*out = g_key_file_get_string_list (kf, "hooks", key, NULL, NULL);
	for (char **w = *out; w && *w; w++) {
		g_strstrip (*w);
		if (!in_list (known, *w)) {
			g_autofree char *all = g_strjoinv (" ", (char **) known);
			g_autofree char *why = g_strdup_printf ("'%s' is none of: %s", *w, all);
			return bad (error, key, why);
		}
	}
	return TRUE;
}

static gboolean
read_setting (GKeyFile *kf, CliHook *h, const char *key, const char *setting, GError **error)
{
	if (strcmp (setting, "command") == 0) {
		g_free (h->command);
		h->command = g_key_file_get_string (kf, "hooks", key, NULL);
		return TRUE;
	}
	if (strcmp (setting, "dispositions") == 0)
		return read_filter (kf, key, known_dispositions, &h->dispositions, error);
	if (strcmp (setting, "changes") == 0)
		return read_filter (kf, key, known_changes, &h->changes, error);
	g_autofree char *v = g_key_file_get_string (kf, "hooks", key, NULL);
	gint64 seconds;
	if (!cli_parse_duration (v, &seconds) || seconds <= 0 || seconds > 24 * 3600)
		return bad (error, key, "want a time limit like 30s or 5m (at most a day)");
	h->timeout_ms = (guint) (seconds * 1000);
	return TRUE;
}

GPtrArray *
cli_hooks (Cli *cli, GError **error)
{
	GPtrArray *hooks = g_ptr_array_new_with_free_func ((GDestroyNotify) cli_hook_free);
	gsize n = 0;
	g_auto (GStrv) keys = g_key_file_get_keys (cli->config, "hooks", &n, NULL);
	for (gsize i = 0; i < n; i++) {
		const char *dot = strrchr (keys[i], '.');
		g_autofree char *name = dot ? g_strndup (keys[i], (gsize) (dot - keys[i])) : NULL;
		if (!dot || !in_list (settings, dot + 1)) {
			bad (error, keys[i], "want NAME.command, NAME.dispositions, NAME.changes or NAME.timeout");
			goto fail;
		}
		if (!cli_hook_name_valid (name)) {
			bad (error, keys[i], "a hook's name is 1-64 of a-z, 0-9, '-' and '_'");
			goto fail;
		}
		if (!read_setting (cli->config, find_or_add (hooks, name), keys[i], dot + 1, error))
			goto fail;
	}
	for (guint i = 0; i < hooks->len; i++) {
		CliHook *h = hooks->pdata[i];
		if (!h->command || !*h->command) {
			g_autofree char *key = g_strconcat (h->name, ".command", NULL);
			bad (error, key, "every hook needs a command");
			goto fail;
		}
	}
	return hooks;
fail:
	g_ptr_array_unref (hooks);
	return NULL;
}

gboolean
cli_hook_wants (const CliHook *h, const BdbChange *c)
{
	if (h->dispositions && !in_list ((const char *const *) h->dispositions, c->disposition))
		return FALSE;
	if (h->changes && !in_list ((const char *const *) h->changes, c->change))
		return FALSE;
	return TRUE;
}
