/* The configuration keys bouncedb knows, and the check of a file against
 * them.
 *
 * A typo in a configuration file used to pass in silence: the key was
 * never read, and its default applied where the operator thought their
 * value did.  So every section and key is in the tables below, with the
 * type of its value and its default, and a file is checked against them
 * when it is loaded: an unknown section or key, a value of the wrong type
 * or a key set twice is an error that names the line, with a suggestion
 * for a near miss.  bouncedb.conf(5) and contrib/bouncedb.conf.example
 * document the same keys; tests/cli/t-contrib.sh holds the three (and the
 * keys the code reads) to each other through `bouncedb config keys`.
 *
 * A new section is a table of its keys and one row in sections[]; a new
 * kind of value, a ConfType and a case in value_problem().
 */
#include <stdarg.h>
#include <string.h>
#include "cli.h"

typedef enum {
	CONF_STRING,     /* any text */
	CONF_PATH,       /* a file or directory */
	CONF_LIST,       /* items separated by ';' */
	CONF_NUMBER,     /* a plain decimal number */
	CONF_SIZE,       /* a number of bytes, optionally k, m or g */
	CONF_DURATION,   /* 30d, 12h, never */
	CONF_BOOLEAN,    /* true or false */
	CONF_ADDRESS,    /* a mail address */
	CONF_PROCESSED,  /* seen, delete, keep or move:MAILDIR */
	CONF_OCTAL,      /* a file mode: 0660 */
} ConfType;

static const char *const type_names[] = {
	[CONF_STRING] = "string", [CONF_PATH] = "path", [CONF_LIST] = "list",
	[CONF_NUMBER] = "number", [CONF_SIZE] = "size", [CONF_DURATION] = "duration",
	[CONF_BOOLEAN] = "boolean", [CONF_ADDRESS] = "address", [CONF_PROCESSED] = "processed",
	[CONF_OCTAL] = "octal",
};

typedef struct {
	const char *name;
	ConfType type;
	const char *def;   /* the default as the example file writes it; NULL: none */
} ConfKey;

static const ConfKey database_keys[] = {
	{ "path", CONF_PATH, NULL },
	{ "map_size", CONF_SIZE, "64M" },
	{ "map_size_max", CONF_SIZE, "16G" },
	{ "lock_timeout_ms", CONF_NUMBER, "10000" },
	{ "group", CONF_STRING, NULL },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey policy_keys[] = {
	{ "soft_threshold", CONF_NUMBER, "5" },
	{ "soft_window_days", CONF_NUMBER, "30" },
	{ "soft_span_days", CONF_NUMBER, "3" },
	{ "domain_threshold", CONF_NUMBER, "3" },
	{ "events_per_address", CONF_NUMBER, "20" },
	{ "keep_local_case", CONF_BOOLEAN, "false" },
	{ "inactive_expiry", CONF_DURATION, "180d" },
	{ "domain_expiry", CONF_DURATION, "90d" },
	{ NULL, CONF_STRING, NULL },
};

/* [expiry] takes reason names as keys: these two have defaults. */
static const ConfKey expiry_keys[] = {
	{ "hostunknown", CONF_DURATION, "90d" },
	{ "notaccept", CONF_DURATION, "90d" },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey classify_keys[] = {
	{ "rules_file", CONF_PATH, NULL },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey limits_keys[] = {
	{ "max_message_size", CONF_SIZE, "64M" },
	{ "max_recipients", CONF_NUMBER, "1000" },
	{ "max_depth", CONF_NUMBER, "16" },
	{ "max_header_size", CONF_SIZE, "1M" },
	{ "max_part_size", CONF_SIZE, "4M" },
	{ "max_line_length", CONF_SIZE, "64k" },
	{ "max_headers", CONF_NUMBER, "10000" },
	{ "max_parts", CONF_NUMBER, "1000" },
	{ "max_address_bytes", CONF_SIZE, "8k" },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey parse_keys[] = {
	{ "keep_headers", CONF_LIST, NULL },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey ingest_keys[] = {
	{ "keep", CONF_PATH, NULL },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey sweep_keys[] = {
	{ "processed", CONF_PROCESSED, "seen" },
	{ "batch", CONF_NUMBER, "500" },
	{ "threads", CONF_NUMBER, "0" },
	{ "quarantine", CONF_PATH, NULL },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey feed_keys[] = {
	{ "campaign_headers", CONF_LIST, "X-Campaign-ID;X-Campaign;X-Mailgun-Campaign-Id" },
	{ NULL, CONF_STRING, NULL },
};

/* serve's listeners: unix:PATH, inet:HOST:PORT, HOST:PORT, PORT or none
 * (serve reads them when it starts); its answers are templates. */
#define REFUSAL "550 5.1.1 <{address}>: suppressed ({reason} since {since})"
#define TRANSPORT "error:5.1.1 <{address}>: suppressed ({reason} since {since})"
static const ConfKey serve_keys[] = {
	{ "socketmap", CONF_STRING, "unix:/run/bouncedb/socketmap" },
	{ "policy", CONF_STRING, "unix:/run/bouncedb/policy" },
	{ "http", CONF_STRING, "unix:/run/bouncedb/http" },
	{ "socket_group", CONF_STRING, NULL },
	{ "socket_mode", CONF_OCTAL, "0660" },
	{ "access_suppressed", CONF_STRING, REFUSAL },
	{ "access_inactive", CONF_STRING, REFUSAL },
	{ "access_complaint", CONF_STRING, REFUSAL },
	{ "transport_suppressed", CONF_STRING, TRANSPORT },
	{ "transport_inactive", CONF_STRING, TRANSPORT },
	{ "transport_complaint", CONF_STRING, TRANSPORT },
	{ "max_connections", CONF_NUMBER, "256" },
	{ "idle_timeout", CONF_DURATION, "300" },
	{ "max_line_length", CONF_SIZE, "2k" },
	{ "max_attributes", CONF_NUMBER, "100" },
	{ "max_request_size", CONF_SIZE, "16M" },
	{ "metrics_interval", CONF_DURATION, "60" },
	{ NULL, CONF_STRING, NULL },
};

static const ConfKey verify_keys[] = {
	{ "enabled", CONF_BOOLEAN, "false" },
	{ "key_file", CONF_PATH, NULL },
	{ "base", CONF_ADDRESS, NULL },
	{ "max_age_days", CONF_NUMBER, "7" },
	{ NULL, CONF_STRING, NULL },
};

/* Keys named by their user, in forms: */

/* [expiry] REASON: a reason name. */
static const ConfKey reason_forms[] = {
	{ "REASON", CONF_DURATION, NULL },
	{ NULL, CONF_STRING, NULL },
};

/* [hooks] NAME.SETTING (hook-config.c reads them). */
static const ConfKey hook_forms[] = {
	{ "NAME.command", CONF_STRING, NULL },
	{ "NAME.dispositions", CONF_LIST, NULL },
	{ "NAME.changes", CONF_LIST, NULL },
	{ "NAME.timeout", CONF_DURATION, "60s" },
	{ NULL, CONF_STRING, NULL },
};

typedef struct {
	const char *name;
	const ConfKey *keys;
	/* Keys beyond the table, of the forms listed (for `config keys` and
	 * messages): is @key one?  Its form, else NULL. */
	const ConfKey *forms;
	const ConfKey *(*form_of) (const char *key);
} ConfSection;

static const ConfKey *
reason_form (const char *key)
{
	BdbReason r;
	return bdb_reason_from_name (key, &r) ? &reason_forms[0] : NULL;
}

static const ConfKey *
hook_form (const char *key)
{
	const char *dot = strrchr (key, '.');
	if (!dot)
		return NULL;
	g_autofree char *name = g_strndup (key, (gsize) (dot - key));
	if (!cli_hook_name_valid (name))
		return NULL;
	for (const ConfKey *f = hook_forms; f->name; f++)
		if (strcmp (f->name + strlen ("NAME"), dot) == 0)
			return f;
	return NULL;
}

/* In the order of bouncedb.conf(5). */
static const ConfSection sections[] = {
	{ "database", database_keys, NULL, NULL },
	{ "policy", policy_keys, NULL, NULL },
	{ "expiry", expiry_keys, reason_forms, reason_form },
	{ "classify", classify_keys, NULL, NULL },
	{ "limits", limits_keys, NULL, NULL },
	{ "parse", parse_keys, NULL, NULL },
	{ "ingest", ingest_keys, NULL, NULL },
	{ "sweep", sweep_keys, NULL, NULL },
	{ "feed", feed_keys, NULL, NULL },
	{ "serve", serve_keys, NULL, NULL },
	{ "hooks", NULL, hook_forms, hook_form },
	{ "verify", verify_keys, NULL, NULL },
};

static void
print_keys (FILE *out, const char *section, const ConfKey *keys)
{
	for (const ConfKey *k = keys; k && k->name; k++)
		fprintf (out, "%s\t%s\t%s\t%s\n", section, k->name, type_names[k->type], k->def ? k->def : "-");
}

void
cli_config_print_keys (FILE *out)
{
	for (gsize i = 0; i < G_N_ELEMENTS (sections); i++) {
		print_keys (out, sections[i].name, sections[i].keys);
		print_keys (out, sections[i].name, sections[i].forms);
	}
}

/* ---- near misses ---- */

/* Edits (insert, delete, replace, swap two neighbours) from @a to @b. */
static guint
distance (const char *a, const char *b)
{
	gsize n = strlen (a), m = strlen (b);
	if (n > 64 || m > 64)
		return G_MAXUINT;
	guint d[65][65];
	for (gsize i = 0; i <= n; i++)
		d[i][0] = (guint) i;
	for (gsize j = 0; j <= m; j++)
		d[0][j] = (guint) j;
	for (gsize i = 1; i <= n; i++) {
		for (gsize j = 1; j <= m; j++) {
			guint cost = g_ascii_tolower (a[i - 1]) != g_ascii_tolower (b[j - 1]);
			guint v = MIN (d[i - 1][j] + 1, d[i][j - 1] + 1);
			v = MIN (v, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				v = MIN (v, d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	}
	return d[n][m];
}

typedef struct {
	const char *word;
	const char *best;
	guint best_d;
	char *owned;        /* best, when it was built here */
} Guess;

static void
consider (Guess *g, const char *candidate)
{
	guint d = distance (g->word, candidate);
	/* Near enough to be the same word mistyped: one edit in a short
	 * word, two in a longer one. */
	guint limit = strlen (candidate) < 6 ? 1 : 2;
	if (d <= limit && d < g->best_d) {
		g->best = candidate;
		g->best_d = d;
	}
}

static const ConfSection *
find_section (const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS (sections); i++)
		if (strcmp (sections[i].name, name) == 0)
			return &sections[i];
	return NULL;
}

static const ConfKey *
find_key (const ConfSection *s, const char *name)
{
	for (const ConfKey *k = s->keys; k && k->name; k++)
		if (strcmp (k->name, name) == 0)
			return k;
	return NULL;
}

/* ---- values ---- */

static gboolean
all_digits (const char *v)
{
	if (!*v)
		return FALSE;
	for (; *v; v++)
		if (!g_ascii_isdigit (*v))
			return FALSE;
	return TRUE;
}

/* Why @value is not of @type, or NULL when it is. */
static const char *
value_problem (ConfType type, const char *value)
{
	switch (type) {
	case CONF_STRING:
	case CONF_PATH:
	case CONF_LIST:
		return NULL;
	case CONF_NUMBER: {
		if (!all_digits (value))
			return "not a number";
		guint64 n = g_ascii_strtoull (value, NULL, 10);
		return n > G_MAXUINT ? "too large" : NULL;
	}
	case CONF_SIZE: {
		gsize n = strlen (value);
		if (n && strchr ("kKmMgG", value[n - 1]))
			n--;
		g_autofree char *digits = g_strndup (value, n);
		return all_digits (digits) ? NULL : "not a size (like 65536, 64k, 64M or 1G)";
	}
	case CONF_DURATION: {
		gint64 secs;
		return cli_parse_duration (value, &secs) ? NULL : "not a duration (like 90d, 12h or never)";
	}
	case CONF_BOOLEAN:
		/* As GKeyFile reads them. */
		return strcmp (value, "true") == 0 || strcmp (value, "false") == 0 ||
		       strcmp (value, "1") == 0 || strcmp (value, "0") == 0 ? NULL : "not true or false";
	case CONF_ADDRESS: {
		g_autofree char *a = bdb_address_normalize (value, BDB_ADDRESS_STRICT, NULL);
		return a ? NULL : "not a mail address";
	}
	case CONF_OCTAL:
		for (const char *p = value; *p; p++)
			if (*p < '0' || *p > '7')
				return "not an octal mode (like 0660)";
		return *value && strlen (value) <= 4 ? NULL : "not an octal mode (like 0660)";
	case CONF_PROCESSED:
		if (strcmp (value, "seen") == 0 || strcmp (value, "delete") == 0 ||
		    strcmp (value, "keep") == 0 || (g_str_has_prefix (value, "move:") && value[5]))
			return NULL;
		return "not seen, delete, keep or move:MAILDIR";
	}
	return NULL;
}

/* ---- the check ---- */

typedef struct {
	guint line;
	char *section;
	char *key;        /* NULL for a section line */
} Entry;

static void
entry_clear (gpointer p)
{
	Entry *e = p;
	g_free (e->section);
	g_free (e->key);
}

static void
problem (GPtrArray *out, guint line, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
problem (GPtrArray *out, guint line, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	g_ptr_array_add (out, g_strdup_printf ("line %u: %s", line, msg));
}

/* The sections and keys of @text with their lines, as GKeyFile reads
 * them (leading blanks ignored, '#' starts a comment line); lines that are
 * none of these are problems. */
static GArray *
scan (const char *text, GPtrArray *problems)
{
	GArray *entries = g_array_new (FALSE, TRUE, sizeof (Entry));
	g_array_set_clear_func (entries, entry_clear);
	g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
	const char *section = NULL;
	for (guint i = 0; lines[i]; i++) {
		char *l = g_strstrip (lines[i]);
		if (!*l || *l == '#')
			continue;
		Entry e = { i + 1, NULL, NULL };
		char *eq = strchr (l, '=');
		if (*l == '[' && l[strlen (l) - 1] == ']') {
			e.section = g_strndup (l + 1, strlen (l) - 2);
			section = e.section;
		} else if (eq && eq != l) {
			if (!section) {
				problem (problems, i + 1, "'%s' comes before any [section]", l);
				continue;
			}
			*eq = '\0';
			e.section = g_strdup (section);
			e.key = g_strdup (g_strchomp (l));
		} else {
			g_autofree char *safe = cli_safe (l);
			problem (problems, i + 1, "'%s' is not a [section], a key = value line or a # comment", safe);
			continue;
		}
		g_array_append_val (entries, e);
	}
	return entries;
}

static const ConfKey *
find_form (const ConfSection *s, const char *form)
{
	for (const ConfKey *f = s->forms; f && f->name; f++)
		if (strcmp (f->name, form) == 0)
			return f;
	return NULL;
}

/* The keys of @s that @key may have meant, into @g. */
static void
consider_keys (Guess *g, const ConfSection *s, const char *key)
{
	for (const ConfKey *c = s->keys; c && c->name; c++)
		consider (g, c->name);
	if (s->form_of == reason_form)
		for (int r = 0; r < BDB_REASON_COUNT; r++)
			consider (g, bdb_reason_name ((BdbReason) r));
	const char *dot = strrchr (key, '.');
	g_autofree char *name = dot ? g_strndup (key, (gsize) (dot - key)) : NULL;
	if (s->form_of == hook_form && dot && cli_hook_name_valid (name)) {
		/* The same hook, another setting. */
		for (const ConfKey *f = hook_forms; f->name; f++) {
			g_autofree char *k = g_strdup_printf ("%.*s%s", (int) (dot - key), key, f->name + strlen ("NAME"));
			Guess h = { g->word, NULL, G_MAXUINT, NULL };
			consider (&h, k);
			if (h.best && h.best_d < g->best_d) {
				g_free (g->owned);
				g->owned = g_steal_pointer (&k);
				g->best = g->owned;
				g->best_d = h.best_d;
			}
		}
	}
}

static void
check_key (GKeyFile *kf, const Entry *e, const ConfSection *s, GPtrArray *problems)
{
	const ConfKey *k = find_key (s, e->key);
	if (!k && s->form_of)
		k = s->form_of (e->key);
	if (!k) {
		const char *what = s->form_of == reason_form ? "reason" : "key";
		g_autofree char *safe = cli_safe (e->key);
		Guess g = { e->key, NULL, G_MAXUINT, NULL };
		consider_keys (&g, s, e->key);
		if (g.best) {
			problem (problems, e->line, "[%s] %s is not a %s bouncedb knows (did you mean %s?)", s->name,
			         safe, what, g.best);
			g_free (g.owned);
			return;
		}
		g_free (g.owned);
		const char *dot = strrchr (e->key, '.');
		g_autofree char *setting = dot ? g_strconcat ("NAME", dot, NULL) : NULL;
		if (s->form_of == hook_form && setting && find_form (s, setting)) {
			problem (problems, e->line, "[%s] %s: a hook's name is 1 to 64 of a-z, 0-9, '-' and '_'",
			         s->name, safe);
			return;
		}
		/* A key of another section, in the wrong place. */
		for (gsize i = 0; i < G_N_ELEMENTS (sections); i++) {
			if (&sections[i] != s && find_key (&sections[i], e->key)) {
				problem (problems, e->line, "[%s] %s: this key belongs in [%s]", s->name, safe,
				         sections[i].name);
				return;
			}
		}
		if (s->forms) {
			GString *forms = g_string_new (NULL);
			for (const ConfKey *f = s->forms; f->name; f++)
				g_string_append_printf (forms, "%s%s", forms->len ? ", " : "", f->name);
			problem (problems, e->line, "[%s] %s is not a %s bouncedb knows (this section takes %s)",
			         s->name, safe, what, forms->str);
			g_string_free (forms, TRUE);
		} else {
			problem (problems, e->line, "[%s] %s is not a key bouncedb knows", s->name, safe);
		}
		return;
	}
	g_autofree char *value = g_key_file_get_string (kf, e->section, e->key, NULL);
	const char *why = value ? value_problem (k->type, value) : "cannot be read";
	if (why) {
		g_autofree char *safe = cli_safe (value ? value : "");
		problem (problems, e->line, "[%s] %s = %s: %s", s->name, e->key, safe, why);
	}
}

GPtrArray *
cli_config_problems (GKeyFile *kf, const char *text)
{
	GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GArray) entries = scan (text, problems);
	if (!kf)
		return problems;
	g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < entries->len; i++) {
		const Entry *e = &g_array_index (entries, Entry, i);
		const ConfSection *s = find_section (e->section);
		if (!s) {
			if (e->key)
				continue;  /* said once, at the section's line */
			g_autofree char *safe = cli_safe (e->section);
			Guess g = { e->section, NULL, G_MAXUINT, NULL };
			for (gsize k = 0; k < G_N_ELEMENTS (sections); k++)
				consider (&g, sections[k].name);
			if (g.best)
				problem (problems, e->line, "[%s] is not a section (did you mean [%s]?)", safe, g.best);
			else
				problem (problems, e->line, "[%s] is not a section bouncedb knows", safe);
			continue;
		}
		if (!e->key)
			continue;
		/* GKeyFile keeps the last value of a key set twice: the first one
		 * would silently not count. */
		char *id = g_strconcat (e->section, "\n", e->key, NULL);
		guint first = GPOINTER_TO_UINT (g_hash_table_lookup (seen, id));
		if (first) {
			problem (problems, e->line, "[%s] %s is set again (first on line %u)", e->section, e->key, first);
			g_free (id);
			continue;
		}
		g_hash_table_insert (seen, id, GUINT_TO_POINTER (e->line));
		check_key (kf, e, s, problems);
	}
	return problems;
}
