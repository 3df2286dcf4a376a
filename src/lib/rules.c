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

extern const char bdb_rules_builtin_text[];
extern const size_t bdb_rules_builtin_len;

typedef enum {
	C_KIND, C_ACTION, C_STATUS, C_CLASS, C_REPLY, C_COMMAND, C_FEEDBACK, C_DTYPE,
	C_TEXT, C_MTA,
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
};

typedef int StatusPattern[3];  /* class, subject, detail; -1 = any */

typedef struct {
	CondType type;
	gboolean negate;
	char **values;        /* literals (lowercased) or words; NULL-terminated */
	StatusPattern *status; /* C_STATUS patterns */
	guint n_status;
	GRegex **regexes;     /* C_TEXT/C_MTA regular expressions, NULL-terminated */
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

struct _BdbRules {
	GPtrArray *rules;     /* BdbRule *, in evaluation order */
	GHashTable *defines;  /* name -> Define * */
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
			g_ptr_array_add (values, g_utf8_strdown (lit->str, -1));
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

static gboolean
text_matches (const Cond *c, const char *text)
{
	if (c->values)
		for (char *const *v = c->values; *v; v++)
			if (strstr (text, *v))
				return TRUE;
	if (c->regexes)
		for (GRegex *const *r = c->regexes; *r; r++)
			if (g_regex_match (*r, text, 0, NULL))
				return TRUE;
	return FALSE;
}

static gboolean
cond_holds (const Cond *c, const BdbRuleInput *in)
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
		return *in->text && text_matches (c, in->text);
	case C_MTA:
		return *in->mta && text_matches (c, in->mta);
	}
	return FALSE;
}

const BdbRule *
bdb_rules_match (const BdbRules *rules, const BdbRuleInput *in)
{
	for (guint i = 0; i < rules->rules->len; i++) {
		const BdbRule *rule = rules->rules->pdata[i];
		gboolean ok = TRUE;
		for (guint k = 0; k < rule->n_conds && ok; k++)
			ok = cond_holds (&rule->conds[k], in) != rule->conds[k].negate;
		if (ok)
			return rule;
	}
	return NULL;
}
