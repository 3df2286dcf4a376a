/* Classification rules: reading the rules language and matching records.
 *
 * The language is one rule per line, "ID REASON CONDITION...", every
 * condition must hold, and the first matching rule in file order decides
 * (src/lib/rules.txt documents it in full).  Rules are compiled once per
 * process: literals are lowercased, regular expressions compiled with
 * G_REGEX_OPTIMIZE, status patterns split into numbers, so matching a
 * record allocates nothing.
 */
#include <string.h>
#include <bouncedb/error.h>
#include "rules-private.h"
#include "text.h"

extern const char bdb_rules_builtin_text[];
extern const size_t bdb_rules_builtin_len;

typedef enum {
	C_KIND, C_ACTION, C_STATUS, C_CLASS, C_REPLY, C_COMMAND, C_FEEDBACK, C_DTYPE,
	C_TEXT, C_MTA, C_RCPT, C_QUOTES,
} CondType;

static const struct {
	const char *name;
	CondType type;
	gboolean text_op;  /* takes ~ and quoted literals or /regex/ */
	BdbField evidence;
} cond_names[] = {
	{ "kind", C_KIND, FALSE, BDB_FIELD_KIND },
	{ "action", C_ACTION, FALSE, BDB_FIELD_ACTION },
	{ "status", C_STATUS, FALSE, BDB_FIELD_STATUS },
	{ "class", C_CLASS, FALSE, BDB_FIELD_STATUS },
	{ "reply", C_REPLY, FALSE, BDB_FIELD_REPLY_CODE },
	{ "command", C_COMMAND, FALSE, BDB_FIELD_SMTP_COMMAND },
	{ "feedback", C_FEEDBACK, FALSE, BDB_FIELD_FEEDBACK_TYPE },
	{ "dtype", C_DTYPE, FALSE, BDB_FIELD_DIAGNOSTIC_TYPE },
	{ "text", C_TEXT, TRUE, BDB_FIELD_DIAGNOSTIC },
	{ "mta", C_MTA, TRUE, BDB_FIELD_REMOTE_MTA },
	{ "rcpt", C_RCPT, TRUE, BDB_FIELD_RECIPIENT },
	{ "quotes", C_QUOTES, FALSE, BDB_FIELD_DIAGNOSTIC },
};

typedef int StatusPattern[3];  /* class, subject, detail; -1 = any */

typedef struct {
	CondType type;
	gboolean negate;
	char **values;        /* literals (lowercased) or words; NULL-terminated */
	StatusPattern *status; /* C_STATUS patterns */
	guint n_status;
	GRegex **regexes;     /* C_TEXT/C_MTA regular expressions, NULL-terminated */
	guint *literal_ids;   /* C_TEXT/C_MTA: its literals in the LiteralIndex */
	guint n_literal_ids;
	char **regex_needs;   /* per regex: text it cannot match without, or NULL */
} Cond;

struct _BdbRule {
	char *id;
	char *origin;
	char *text;
	BdbReason reason;
	BdbField evidence;
	Cond *conds;
	guint n_conds;
};

/* A named list of literals and regular expressions ("define NAME ..."),
 * usable as text~@NAME in any later rule, in this file or a user's. */
typedef struct {
	GPtrArray *literals;  /* char *, lowercased */
	GPtrArray *regexes;   /* GRegex * */
} Define;

/* Every literal of every text condition, found in one pass over a text:
 * a diagnostic is read once however many phrases the rules list (615
 * built in).  Literals of three bytes or more are filed by a hash of
 * their first three bytes; each position of the text looks in one
 * bucket.  Shorter ones are searched for one by one. */
#define LITERAL_BUCKETS 4096u

typedef struct {
	GPtrArray *literals;    /* const char *, borrowed from the conditions; index = id */
	GArray *lengths;        /* gsize per id */
	guint32 *bucket_start;  /* LITERAL_BUCKETS + 1 offsets into bucket_ids */
	guint32 *bucket_ids;
	GArray *short_ids;      /* guint: ids of literals under three bytes */
} LiteralIndex;

struct _BdbRules {
	GPtrArray *rules;     /* BdbRule *, in evaluation order */
	GHashTable *defines;  /* name -> Define * */
	LiteralIndex index;
};

static void
define_free (Define *d)
{
	g_ptr_array_unref (d->literals);
	g_ptr_array_unref (d->regexes);
	g_free (d);
}

static void
cond_clear (Cond *c)
{
	g_strfreev (c->values);
	g_free (c->status);
	g_free (c->literal_ids);
	if (c->regex_needs) {
		for (guint i = 0; c->regexes && c->regexes[i]; i++)
			g_free (c->regex_needs[i]);
		g_free (c->regex_needs);
	}
	if (c->regexes) {
		for (GRegex **r = c->regexes; *r; r++)
			g_regex_unref (*r);
		g_free (c->regexes);
	}
}

static void
rule_free (BdbRule *rule)
{
	if (!rule)
		return;
	for (guint i = 0; i < rule->n_conds; i++)
		cond_clear (&rule->conds[i]);
	g_free (rule->conds);
	g_free (rule->id);
	g_free (rule->origin);
	g_free (rule->text);
	g_free (rule);
}

/* ---- the literal index ------------------------------------------------ */

static guint
literal_bucket (const char *p)
{
	return ((guint) (guchar) p[0] * 961u + (guint) (guchar) p[1] * 31u + (guchar) p[2]) % LITERAL_BUCKETS;
}

static void
literal_index_clear (LiteralIndex *ix)
{
	if (ix->literals)
		g_ptr_array_unref (ix->literals);
	if (ix->lengths)
		g_array_unref (ix->lengths);
	if (ix->short_ids)
		g_array_unref (ix->short_ids);
	g_free (ix->bucket_start);
	g_free (ix->bucket_ids);
	memset (ix, 0, sizeof *ix);
}

/* The longest run of plain ASCII characters that every match of @pattern
 * contains (lowercased), when one of three bytes or more is easy to see;
 * else NULL.  Lets a regular expression be skipped, cheaply, on texts that
 * lack the run: most of the rules' expressions start with a word. */
char *
bdb_rules_regex_needs (const char *pattern)
{
	GString *best = g_string_new (NULL), *run = g_string_new (NULL);
	int depth = 0;
	for (const char *p = pattern; *p; p++) {
		char c = *p;
		gboolean plain = g_ascii_isalnum (c) || c == ' ' || c == '-' || c == '<' || c == '>' ||
		                 c == ':' || c == '@' || c == '#' || c == '=' || c == ',' || c == '\'';
		if (c == '|' && depth == 0) {
			/* Alternatives at the top: nothing is required. */
			g_string_truncate (best, 0);
			g_string_truncate (run, 0);
			break;
		}
		if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
		if (plain && depth == 0) {
			/* A quantifier after it makes the character optional. */
			if (p[1] == '?' || p[1] == '*' || (p[1] == '{' && p[2] == '0')) {
				if (run->len > best->len)
					g_string_assign (best, run->str);
				g_string_truncate (run, 0);
				continue;
			}
			g_string_append_c (run, g_ascii_tolower (c));
			continue;
		}
		if (run->len > best->len)
			g_string_assign (best, run->str);
		g_string_truncate (run, 0);
		if (c == '\\' && p[1])
			p++;  /* an escape (\b, \s, \[): no plain character */
		else if (c == '[' || c == '{')
			while (p[1] && p[1] != (c == '[' ? ']' : '}'))
				p++;  /* a class or a repeat count */
	}
	if (run->len > best->len)
		g_string_assign (best, run->str);
	g_string_free (run, TRUE);
	if (best->len < 3) {
		g_string_free (best, TRUE);
		return NULL;
	}
	return g_string_free (best, FALSE);
}

/* (Re)build the index from every text condition of @rules, and give each
 * condition the ids of its literals. */
static void
literal_index_build (BdbRules *rules)
{
	LiteralIndex *ix = &rules->index;
	literal_index_clear (ix);
	ix->literals = g_ptr_array_new ();
	ix->lengths = g_array_new (FALSE, FALSE, sizeof (gsize));
	ix->short_ids = g_array_new (FALSE, FALSE, sizeof (guint));
	g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);  /* -> id + 1 */
	for (guint r = 0; r < rules->rules->len; r++) {
		BdbRule *rule = rules->rules->pdata[r];
		for (guint k = 0; k < rule->n_conds; k++) {
			Cond *c = &rule->conds[k];
			if (c->type != C_TEXT && c->type != C_MTA && c->type != C_RCPT)
				continue;
			if (c->regexes && !c->regex_needs) {
				guint nr = g_strv_length ((char **) c->regexes);
				c->regex_needs = g_new0 (char *, nr + 1);
				for (guint i = 0; i < nr; i++)
					c->regex_needs[i] = bdb_rules_regex_needs (g_regex_get_pattern (c->regexes[i]));
			}
			if (!c->values)
				continue;
			g_free (c->literal_ids);
			c->n_literal_ids = g_strv_length (c->values);
			c->literal_ids = g_new (guint, c->n_literal_ids);
			for (guint v = 0; v < c->n_literal_ids; v++) {
				const char *lit = c->values[v];
				guint id = GPOINTER_TO_UINT (g_hash_table_lookup (ids, lit));
				if (!id) {
					gsize len = strlen (lit);
					g_ptr_array_add (ix->literals, (gpointer) lit);
					g_array_append_val (ix->lengths, len);
					id = ix->literals->len;
					g_hash_table_insert (ids, (gpointer) lit, GUINT_TO_POINTER (id));
					if (len < 3) {
						guint sid = id - 1;
						g_array_append_val (ix->short_ids, sid);
					}
				}
				c->literal_ids[v] = id - 1;
			}
		}
	}
	/* Counting sort of the long literals into their buckets. */
	ix->bucket_start = g_new0 (guint32, LITERAL_BUCKETS + 1);
	ix->bucket_ids = g_new (guint32, MAX (ix->literals->len, 1));
	for (guint id = 0; id < ix->literals->len; id++)
		if (g_array_index (ix->lengths, gsize, id) >= 3)
			ix->bucket_start[literal_bucket (ix->literals->pdata[id]) + 1]++;
	for (guint b = 0; b < LITERAL_BUCKETS; b++)
		ix->bucket_start[b + 1] += ix->bucket_start[b];
	g_autofree guint32 *fill = g_memdup2 (ix->bucket_start, LITERAL_BUCKETS * sizeof (guint32));
	for (guint id = 0; id < ix->literals->len; id++)
		if (g_array_index (ix->lengths, gsize, id) >= 3)
			ix->bucket_ids[fill[literal_bucket (ix->literals->pdata[id])]++] = id;
}

/* Mark in @hit (one byte per literal id) the literals @text contains. */
static void
literal_index_find (const LiteralIndex *ix, const char *text, guint8 *hit)
{
	gsize n = strlen (text);
	memset (hit, 0, ix->literals->len);
	for (guint k = 0; k < ix->short_ids->len; k++) {
		guint id = g_array_index (ix->short_ids, guint, k);
		hit[id] = strstr (text, ix->literals->pdata[id]) != NULL;
	}
	for (gsize i = 0; i + 3 <= n; i++) {
		guint b = literal_bucket (text + i);
		for (guint32 k = ix->bucket_start[b]; k < ix->bucket_start[b + 1]; k++) {
			guint32 id = ix->bucket_ids[k];
			gsize len = g_array_index (ix->lengths, gsize, id);
			if (!hit[id] && len <= n - i && memcmp (text + i, ix->literals->pdata[id], len) == 0)
				hit[id] = 1;
		}
	}
}

/* ---- reading the language ---------------------------------------------- */

typedef struct {
	const char *p;
	const char *origin;
	guint line;
	GError **error;
	GHashTable *defines;  /* visible defines: name -> Define * */
} Lexer;

static gboolean G_GNUC_PRINTF (2, 3)
fail (Lexer *lx, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	g_set_error (lx->error, BDB_ERROR, BDB_ERROR_INVALID, "%s:%u: %s", lx->origin, lx->line, msg);
	return FALSE;
}

static void
skip_space (const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static char *
read_word (const char **p)
{
	const char *s = *p;
	while (**p && !g_ascii_isspace (**p))
		(*p)++;
	return g_strndup (s, (gsize) (*p - s));
}

/* A quoted literal "..." (\" and \\ escaped) or a /regex/ (\/ escaped). */
static gboolean
read_delimited (Lexer *lx, const char **p, char delim, GString *out)
{
	(*p)++;
	while (**p && **p != delim) {
		if (**p == '\\' && (*p)[1]) {
			if ((*p)[1] == delim || (delim == '"' && (*p)[1] == '\\')) {
				(*p)++;
			} else if (delim == '/') {
				g_string_append_c (out, '\\');
				(*p)++;
			}
		}
		g_string_append_c (out, **p);
		(*p)++;
	}
	if (**p != delim)
		return fail (lx, "unterminated %s", delim == '"' ? "string" : "regular expression");
	(*p)++;
	return TRUE;
}

static gboolean
read_name (const char **p, GString *out)
{
	while (g_ascii_isalnum (**p) || **p == '-' || **p == '_' || **p == '.')
		g_string_append_c (out, *(*p)++);
	return out->len > 0;
}

/* "lit", /re/ or @NAME, separated by commas, into @values (lowercased
 * literals, owned strings) and @regexes (references). */
static gboolean
read_text_list (Lexer *lx, const char **p, GPtrArray *values, GPtrArray *regexes)
{
	for (;;) {
		g_autoptr (GString) lit = g_string_new (NULL);
		if (**p == '"') {
			if (!read_delimited (lx, p, '"', lit))
				return FALSE;
			if (lit->len == 0)
				return fail (lx, "empty string");
			g_ptr_array_add (values, bdb_text_strdown (lit->str));
		} else if (**p == '/') {
			if (!read_delimited (lx, p, '/', lit))
				return FALSE;
			GError *rx_error = NULL;
			GRegex *rx = g_regex_new (lit->str, G_REGEX_CASELESS | G_REGEX_OPTIMIZE,
			                          G_REGEX_MATCH_NOTEMPTY, &rx_error);
			if (!rx) {
				fail (lx, "bad regular expression /%s/: %s", lit->str, rx_error->message);
				g_error_free (rx_error);
				return FALSE;
			}
			g_ptr_array_add (regexes, rx);
		} else if (**p == '@') {
			(*p)++;
			if (!read_name (p, lit))
				return fail (lx, "'@' must be followed by a define's name");
			Define *d = g_hash_table_lookup (lx->defines, lit->str);
			if (!d)
				return fail (lx, "no define named '%s' (defines come before their use)", lit->str);
			for (guint i = 0; i < d->literals->len; i++)
				g_ptr_array_add (values, g_strdup (d->literals->pdata[i]));
			for (guint i = 0; i < d->regexes->len; i++)
				g_ptr_array_add (regexes, g_regex_ref (d->regexes->pdata[i]));
		} else {
			return fail (lx, "expected \"text\", /regex/ or @name");
		}
		const char *q = *p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != ',')
			return TRUE;
		*p = q + 1;
		while (**p == ' ' || **p == '\t')
			(*p)++;
	}
}

static gboolean
parse_status_pattern (const char *w, int out[3])
{
	char **parts = g_strsplit (w, ".", -1);
	gboolean ok = g_strv_length (parts) == 3;
	for (int i = 0; ok && i < 3; i++) {
		if (strcmp (parts[i], "*") == 0) {
			out[i] = -1;
		} else {
			char *end;
			gint64 v = g_ascii_strtoll (parts[i], &end, 10);
			ok = *parts[i] && !*end && v >= 0 && v < 1000;
			out[i] = (int) v;
		}
	}
	g_strfreev (parts);
	return ok;
}

static gboolean
parse_condition (Lexer *lx, const char **p, Cond *c, BdbField *evidence)
{
	memset (c, 0, sizeof *c);
	if (**p == '!') {
		c->negate = TRUE;
		(*p)++;
	}
	const char *s = *p;
	while (g_ascii_isalpha (**p))
		(*p)++;
	g_autofree char *name = g_strndup (s, (gsize) (*p - s));
	gsize k;
	for (k = 0; k < G_N_ELEMENTS (cond_names); k++)
		if (strcmp (name, cond_names[k].name) == 0)
			break;
	if (k == G_N_ELEMENTS (cond_names))
		return fail (lx, "unknown condition '%s'", name);
	c->type = cond_names[k].type;
	*evidence = cond_names[k].evidence;

	g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
	g_autoptr (GPtrArray) regexes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_regex_unref);

	if (cond_names[k].text_op) {
		if (**p != '~')
			return fail (lx, "'%s' takes ~\"text\" or ~/regex/", name);
		(*p)++;
		if (!read_text_list (lx, p, values, regexes))
			return FALSE;
	} else {
		if (**p != '=')
			return fail (lx, "'%s' takes =value[,value...]", name);
		(*p)++;
		g_autofree char *list = read_word (p);
		if (!*list)
			return fail (lx, "'%s=' needs a value", name);
		char **words = g_strsplit (list, ",", -1);
		for (char **w = words; *w; w++) {
			if (!**w) {
				g_strfreev (words);
				return fail (lx, "empty value in '%s'", list);
			}
			if (c->type == C_STATUS) {
				c->status = g_renew (StatusPattern, c->status, c->n_status + 1);
				if (!parse_status_pattern (*w, c->status[c->n_status])) {
					fail (lx, "bad status pattern '%s' (want like 5.1.1 or 5.7.*)", *w);
					g_strfreev (words);
					return FALSE;
				}
				c->n_status++;
			} else if (c->type == C_COMMAND) {
				g_ptr_array_add (values, g_ascii_strup (*w, -1));
			} else {
				g_ptr_array_add (values, g_ascii_strdown (*w, -1));
			}
		}
		g_strfreev (words);
	}
	if (values->len) {
		g_ptr_array_set_free_func (values, NULL);
		g_ptr_array_add (values, NULL);
		c->values = (char **) g_ptr_array_steal (values, NULL);
	}
	if (regexes->len) {
		g_ptr_array_set_free_func (regexes, NULL);
		g_ptr_array_add (regexes, NULL);
		c->regexes = (GRegex **) g_ptr_array_steal (regexes, NULL);
	}
	if (**p && !g_ascii_isspace (**p))
		return fail (lx, "unexpected '%c' after condition '%s'", **p, name);
	return TRUE;
}

static int
evidence_rank (BdbField f)
{
	switch (f) {
	case BDB_FIELD_DIAGNOSTIC: return 5;
	case BDB_FIELD_REMOTE_MTA: return 4;
	case BDB_FIELD_STATUS: return 3;
	case BDB_FIELD_REPLY_CODE: return 2;
	case BDB_FIELD_SMTP_COMMAND: return 1;
	default: return 0;
	}
}

static BdbRule *
parse_rule (Lexer *lx, const char *line)
{
	const char *p = line;
	BdbRule *rule = g_new0 (BdbRule, 1);
	rule->text = g_strdup (line);
	g_strstrip (rule->text);
	rule->origin = g_strdup_printf ("%s:%u", lx->origin, lx->line);
	rule->evidence = BDB_FIELD_ACTION;

	skip_space (&p);
	rule->id = read_word (&p);
	skip_space (&p);
	g_autofree char *reason = read_word (&p);
	if (!*reason) {
		fail (lx, "rule '%s' has no reason", rule->id);
		rule_free (rule);
		return NULL;
	}
	if (!bdb_reason_from_name (reason, &rule->reason)) {
		fail (lx, "unknown reason '%s'", reason);
		rule_free (rule);
		return NULL;
	}
	GArray *conds = g_array_new (FALSE, FALSE, sizeof (Cond));
	int best = -1;
	for (;;) {
		skip_space (&p);
		if (!*p || *p == '#')
			break;
		Cond c;
		BdbField ev = BDB_FIELD_ACTION;
		if (!parse_condition (lx, &p, &c, &ev)) {
			cond_clear (&c);
			for (guint i = 0; i < conds->len; i++)
				cond_clear (&g_array_index (conds, Cond, i));
			g_array_unref (conds);
			rule_free (rule);
			return NULL;
		}
		if (!c.negate && evidence_rank (ev) > best) {
			best = evidence_rank (ev);
			rule->evidence = ev;
		}
		g_array_append_val (conds, c);
	}
	rule->n_conds = conds->len;
	rule->conds = (Cond *) g_array_free (conds, FALSE);
	return rule;
}

static gboolean
valid_id (const char *id)
{
	if (!*id)
		return FALSE;
	for (const char *p = id; *p; p++)
		if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	return TRUE;
}

/* "define NAME list": a named list for text~@NAME. */
static gboolean
parse_define (Lexer *lx, const char *p, GPtrArray *added)
{
	skip_space (&p);
	g_autoptr (GString) name = g_string_new (NULL);
	if (!read_name (&p, name))
		return fail (lx, "define needs a name");
	if (g_hash_table_contains (lx->defines, name->str))
		return fail (lx, "define '%s' given twice", name->str);
	skip_space (&p);
	Define *d = g_new0 (Define, 1);
	d->literals = g_ptr_array_new_with_free_func (g_free);
	d->regexes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_regex_unref);
	if (!read_text_list (lx, &p, d->literals, d->regexes)) {
		define_free (d);
		return FALSE;
	}
	skip_space (&p);
	if (*p && *p != '#') {
		define_free (d);
		return fail (lx, "unexpected '%c' in define '%s'", *p, name->str);
	}
	g_hash_table_insert (lx->defines, g_strdup (name->str), d);
	g_ptr_array_add (added, g_strdup (name->str));
	return TRUE;
}

/* On error, forget the defines a text added. */
static void
drop_defines (BdbRules *rules, GPtrArray *names)
{
	for (guint i = 0; i < names->len; i++)
		g_hash_table_remove (rules->defines, names->pdata[i]);
}

gboolean
bdb_rules_add_text (BdbRules *rules, const char *origin, const char *text, gssize len,
                    GError **error)
{
	Lexer lx = { NULL, origin, 0, error, rules->defines };
	g_autofree char *copy = g_strndup (text, len < 0 ? strlen (text) : (gsize) len);
	g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_free);
	g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
	/* Defines of this text, visible from their line on; kept only when the
	 * whole text reads. */
	g_autoptr (GPtrArray) added_defines = g_ptr_array_new_with_free_func (g_free);

	/* Lowercasing and PCRE need UTF-8 (GRegex hands PCRE a pattern
	 * unchecked, and PCRE reads past invalid sequences). */
	const char *bad;
	if (!g_utf8_validate (copy, -1, &bad)) {
		lx.line = 1;
		for (const char *c = copy; c < bad; c++)
			lx.line += *c == '\n';
		return fail (&lx, "not valid UTF-8");
	}

	guint next_line = 1;
	for (char *line = copy, *next; line; line = next) {
		next = strchr (line, '\n');
		if (next)
			*next++ = '\0';
		lx.line = next_line++;
		g_autoptr (GString) joined = g_string_new (line);
		/* Indented lines continue the line before them: long lists. */
		for (;;) {
			while (joined->len && g_ascii_isspace (joined->str[joined->len - 1]))
				g_string_truncate (joined, joined->len - 1);
			const char *peek = next;
			if (peek)
				skip_space (&peek);
			if (!next || (next[0] != ' ' && next[0] != '\t') || !*peek || *peek == '#' ||
			    *peek == '\r' || *peek == '\n')
				break;
			char *cont = next;
			next = strchr (cont, '\n');
			if (next)
				*next++ = '\0';
			next_line++;
			const char *c = cont;
			skip_space (&c);
			/* (A continuation may follow a blank line: nothing to join.) */
			if (joined->len && joined->str[joined->len - 1] != ',')
				g_string_append_c (joined, ' ');
			g_string_append (joined, c);
		}
		const char *p = joined->str;
		skip_space (&p);
		if (!*p || *p == '#')
			continue;
		if (g_str_has_prefix (p, "define") && g_ascii_isspace (p[6])) {
			if (!parse_define (&lx, p + 6, added_defines)) {
				drop_defines (rules, added_defines);
				return FALSE;
			}
			continue;
		}
		BdbRule *rule = parse_rule (&lx, joined->str);
		if (!rule) {
			drop_defines (rules, added_defines);
			return FALSE;
		}
		if (!valid_id (rule->id)) {
			fail (&lx, "bad rule id '%s' (letters, digits, '-', '_', '.')", rule->id);
			rule_free (rule);
			drop_defines (rules, added_defines);
			return FALSE;
		}
		if (g_hash_table_contains (ids, rule->id)) {
			fail (&lx, "rule id '%s' used twice", rule->id);
			rule_free (rule);
			drop_defines (rules, added_defines);
			return FALSE;
		}
		g_hash_table_add (ids, rule->id);
		g_ptr_array_add (added, rule);
	}

	g_ptr_array_set_size (added_defines, 0);
	/* New rules go first; an existing rule with the same id is replaced. */
	for (guint i = rules->rules->len; i-- > 0;) {
		BdbRule *old = rules->rules->pdata[i];
		if (g_hash_table_contains (ids, old->id))
			g_ptr_array_remove_index (rules->rules, i);
	}
	for (guint i = 0; i < added->len; i++)
		g_ptr_array_insert (rules->rules, (gint) i, added->pdata[i]);
	g_ptr_array_set_free_func (added, NULL);
	literal_index_build (rules);
	return TRUE;
}

BdbRules *
bdb_rules_new (GError **error)
{
	BdbRules *rules = g_new0 (BdbRules, 1);
	rules->rules = g_ptr_array_new_with_free_func ((GDestroyNotify) rule_free);
	rules->defines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
	                                        (GDestroyNotify) define_free);
	if (!bdb_rules_add_text (rules, "builtin", bdb_rules_builtin_text,
	                         (gssize) bdb_rules_builtin_len, error)) {
		bdb_rules_free (rules);
		return NULL;
	}
	return rules;
}

gboolean
bdb_rules_add_file (BdbRules *rules, const char *path, GError **error)
{
	g_autofree char *text = NULL;
	gsize len = 0;
	GError *io = NULL;
	if (!g_file_get_contents (path, &text, &len, &io)) {
		g_set_error (error, BDB_ERROR,
		             g_error_matches (io, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? BDB_ERROR_NOT_FOUND : BDB_ERROR_IO,
		             "%s", io->message);
		g_error_free (io);
		return FALSE;
	}
	return bdb_rules_add_text (rules, path, text, (gssize) len, error);
}

void
bdb_rules_free (BdbRules *rules)
{
	if (!rules)
		return;
	g_ptr_array_unref (rules->rules);
	g_hash_table_unref (rules->defines);
	literal_index_clear (&rules->index);
	g_free (rules);
}

const char *
bdb_rule_id (const BdbRule *rule)
{
	return rule ? rule->id : NULL;
}

const char *
bdb_rule_origin (const BdbRule *rule)
{
	return rule ? rule->origin : NULL;
}

const char *
bdb_rule_text (const BdbRule *rule)
{
	return rule ? rule->text : NULL;
}

BdbReason
bdb_rule_reason (const BdbRule *rule)
{
	return rule->reason;
}

BdbField
bdb_rule_evidence (const BdbRule *rule)
{
	return rule->evidence;
}

/* ---- matching ---------------------------------------------------------- */

static gboolean
word_in (char *const *values, const char *w)
{
	for (; *values; values++)
		if (strcmp (*values, w) == 0)
			return TRUE;
	return FALSE;
}

/* What the literal index found in one field, computed when first asked. */
typedef struct {
	const char *text;
	guint8 *hit;     /* NULL until computed */
	guint8 *storage;
} FieldHits;

static gboolean
text_matches (const BdbRules *rules, const Cond *c, FieldHits *fh)
{
	if (c->n_literal_ids) {
		if (!fh->hit) {
			literal_index_find (&rules->index, fh->text, fh->storage);
			fh->hit = fh->storage;
		}
		for (guint i = 0; i < c->n_literal_ids; i++)
			if (fh->hit[c->literal_ids[i]])
				return TRUE;
	}
	for (guint i = 0; c->regexes && c->regexes[i]; i++) {
		const char *need = c->regex_needs ? c->regex_needs[i] : NULL;
		if ((!need || strstr (fh->text, need)) && g_regex_match (c->regexes[i], fh->text, 0, NULL))
			return TRUE;
	}
	return FALSE;
}

static gboolean
cond_holds (const BdbRules *rules, const Cond *c, const BdbRuleInput *in, FieldHits *text, FieldHits *mta,
            FieldHits *rcpt)
{
	static const char *const kinds[] = {
		[BDB_KIND_NONE] = "none", [BDB_KIND_DSN] = "dsn",
		[BDB_KIND_ARF] = "arf", [BDB_KIND_AUTOREPLY] = "autoreply",
	};
	char klass[2] = { 0 };

	switch (c->type) {
	case C_KIND:
		return word_in (c->values, kinds[in->kind]);
	case C_ACTION:
		return word_in (c->values, in->action);
	case C_STATUS:
		if (in->status[0] < 0)
			return FALSE;
		for (guint i = 0; i < c->n_status; i++) {
			const int *pat = c->status[i];
			if ((pat[0] < 0 || pat[0] == in->status[0]) &&
			    (pat[1] < 0 || pat[1] == in->status[1]) &&
			    (pat[2] < 0 || pat[2] == in->status[2]))
				return TRUE;
		}
		return FALSE;
	case C_CLASS:
		klass[0] = (char) ('0' + in->klass);
		return in->klass && word_in (c->values, klass);
	case C_REPLY:
		return *in->reply && word_in (c->values, in->reply);
	case C_COMMAND:
		return *in->command && word_in (c->values, in->command);
	case C_FEEDBACK:
		return word_in (c->values, in->feedback);
	case C_DTYPE:
		return word_in (c->values, in->dtype);
	case C_TEXT:
		return *in->text && text_matches (rules, c, text);
	case C_MTA:
		return *in->mta && text_matches (rules, c, mta);
	case C_RCPT:
		return *in->rcpt && text_matches (rules, c, rcpt);
	case C_QUOTES:
		/* quotes=rcpt: the diagnostic names the recipient's address. */
		return *in->rcpt && word_in (c->values, "rcpt") && strstr (in->text, in->rcpt) != NULL;
	}
	return FALSE;
}

const BdbRule *
bdb_rules_match (const BdbRules *rules, const BdbRuleInput *in)
{
	guint n = rules->index.literals->len;
	guint8 stack[3 * 1024];
	guint8 *storage = 3 * n <= sizeof stack ? stack : g_malloc (3 * (gsize) n);
	FieldHits text = { in->text, NULL, storage };
	FieldHits mta = { in->mta, NULL, storage + n };
	FieldHits rcpt = { in->rcpt, NULL, storage + 2 * n };
	const BdbRule *found = NULL;
	for (guint i = 0; i < rules->rules->len && !found; i++) {
		const BdbRule *rule = rules->rules->pdata[i];
		gboolean ok = TRUE;
		for (guint k = 0; k < rule->n_conds && ok; k++)
			ok = cond_holds (rules, &rule->conds[k], in, &text, &mta, &rcpt) != rule->conds[k].negate;
		if (ok)
			found = rule;
	}
	if (storage != stack)
		g_free (storage);
	return found;
}

/* ---- explaining a match -------------------------------------------------- */

static const char *
cond_name (CondType type)
{
	for (gsize k = 0; k < G_N_ELEMENTS (cond_names); k++)
		if (cond_names[k].type == type)
			return cond_names[k].name;
	return "?";
}

/* The words of @field that made text condition @c hold: the first of its
 * literals the field contains, else what its first matching regular
 * expression matched. */
static void
append_words (GString *out, const Cond *c, const char *field)
{
	for (guint i = 0; c->values && c->values[i]; i++) {
		if (strstr (field, c->values[i])) {
			g_string_append_printf (out, "\"%s\"", c->values[i]);
			return;
		}
	}
	for (guint i = 0; c->regexes && c->regexes[i]; i++) {
		g_autoptr (GMatchInfo) mi = NULL;
		if (g_regex_match (c->regexes[i], field, 0, &mi)) {
			g_autofree char *word = g_match_info_fetch (mi, 0);
			g_string_append_printf (out, "\"%s\"", word);
			return;
		}
	}
}

char *
bdb_rule_describe (const BdbRules *rules, const BdbRule *rule, const BdbRuleInput *in)
{
	(void) rules;
	GString *out = g_string_new (NULL);
	for (guint k = 0; k < rule->n_conds; k++) {
		const Cond *c = &rule->conds[k];
		const char *name = cond_name (c->type);
		if (out->len)
			g_string_append (out, "; ");
		if (c->negate) {
			/* What was absent: the condition as written. */
			g_string_append_printf (out, "!%s", name);
			if (c->type == C_TEXT || c->type == C_MTA || c->type == C_RCPT)
				g_string_append (out, "~(none of its words)");
			else if (c->values) {
				g_autofree char *list = g_strjoinv (",", c->values);
				g_string_append_printf (out, "=%s", list);
			}
			continue;
		}
		switch (c->type) {
		case C_KIND:
		case C_FEEDBACK:
		case C_DTYPE:
		case C_QUOTES:
			g_string_append_printf (out, "%s=%s", name, c->values ? c->values[0] : "");
			break;
		case C_ACTION:
			g_string_append_printf (out, "action=%s", in->action);
			break;
		case C_STATUS:
			g_string_append_printf (out, "status=%d.%d.%d", in->status[0], in->status[1], in->status[2]);
			break;
		case C_CLASS:
			g_string_append_printf (out, "class=%d", in->klass);
			break;
		case C_REPLY:
			g_string_append_printf (out, "reply=%s", in->reply);
			break;
		case C_COMMAND:
			g_string_append_printf (out, "command=%s", in->command);
			break;
		case C_TEXT:
		case C_MTA:
		case C_RCPT:
			g_string_append_printf (out, "%s~", name);
			append_words (out, c, c->type == C_TEXT ? in->text : c->type == C_MTA ? in->mta : in->rcpt);
			break;
		}
	}
	return g_string_free (out, FALSE);
}
