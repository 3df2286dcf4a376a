/* The crafted corpus drives behaviour: every .eml under corpus/ is parsed and
 * classified and compared with its .expected (format in corpus/README.md).
 * Each message is its own test, so a failure names the file. */
#include <string.h>
#include "testutil.h"

static BdbRules *rules;
static GPtrArray *paths;

static void
collect (const char *dir)
{
	GDir *d = g_dir_open (dir, 0, NULL);
	if (!d)
		return;
	const char *name;
	g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
	while ((name = g_dir_read_name (d)))
		g_ptr_array_add (names, g_strdup (name));
	g_dir_close (d);
	g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
	for (guint i = 0; i < names->len; i++) {
		char *path = g_build_filename (dir, names->pdata[i], NULL);
		if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
			collect (path);
			g_free (path);
		} else if (g_str_has_suffix (path, ".eml")) {
			g_ptr_array_add (paths, path);
		} else {
			g_free (path);
		}
	}
}

static char *
field_or_dash (const BdbRecord *rec, BdbField f)
{
	const char *v = bdb_record_get (rec, f);
	return g_strdup (v && *v ? v : "-");
}

/* What we read, in the .expected line format. */
static char *
actual_lines (const char *path, char **err_kind)
{
	GError *error = NULL;
	BdbReport *r = bdb_report_parse_file (path, NULL, &error);
	if (!r) {
		*err_kind = g_strdup (bdb_error_code_name ((BdbErrorCode) error->code));
		g_error_free (error);
		return g_strdup_printf ("error %s\n", *err_kind);
	}
	GString *out = g_string_new (NULL);
	for (guint i = 0; i < bdb_report_n_records (r); i++) {
		const BdbRecord *rec = bdb_report_get_record (r, i);
		BdbVerdict v;
		bdb_classify (rules, rec, &v);
		g_autofree char *rcpt = field_or_dash (rec, BDB_FIELD_RECIPIENT);
		g_autofree char *action = field_or_dash (rec, BDB_FIELD_ACTION);
		g_autofree char *status = field_or_dash (rec, BDB_FIELD_STATUS);
		g_autofree char *reply = field_or_dash (rec, BDB_FIELD_REPLY_CODE);
		g_string_append_printf (out, "%s %s %s %s %s %s %s\n", rcpt, action, status, reply,
		                        bdb_reason_name (v.reason), v.hard ? "yes" : "no",
		                        bdb_disposition_name (v.disposition));
	}
	if (bdb_report_problem (r) && bdb_report_n_records (r) == 0)
		g_string_append (out, "problem\n");
	bdb_report_free (r);
	return g_string_free (out, FALSE);
}

/* The .expected file without comments and blank lines, spaces collapsed. */
static char *
expected_lines (const char *path)
{
	g_autofree char *base = g_strndup (path, strlen (path) - strlen (".eml"));
	g_autofree char *exp_path = g_strconcat (base, ".expected", NULL);
	g_autofree char *text = NULL;
	if (!g_file_get_contents (exp_path, &text, NULL, NULL))
		fail_msg ("%s: missing", exp_path);
	GString *out = g_string_new (NULL);
	char **lines = g_strsplit (text, "\n", -1);
	for (char **l = lines; *l; l++) {
		char *line = g_strstrip (*l);
		if (!*line || *line == '#')
			continue;
		char **words = g_strsplit_set (line, " \t", -1);
		gboolean first = TRUE;
		for (char **w = words; *w; w++) {
			if (!**w)
				continue;
			if (!first)
				g_string_append_c (out, ' ');
			g_string_append (out, *w);
			first = FALSE;
		}
		g_string_append_c (out, '\n');
		g_strfreev (words);
	}
	g_strfreev (lines);
	return g_string_free (out, FALSE);
}

static void
test_message (void **state)
{
	const char *path = *state;
	char *err = NULL;
	char *got = actual_lines (path, &err);
	char *want = expected_lines (path);
	gboolean same = strcmp (got, want) == 0;
	if (!same)
		print_error ("%s\n--- expected\n%s--- got\n%s", path, want, got);
	/* Freed before failing: fail() does not return. */
	g_free (err);
	g_free (got);
	g_free (want);
	if (!same)
		fail ();
}

int
main (void)
{
	rules = bdb_rules_new (NULL);
	paths = g_ptr_array_new_with_free_func (g_free);
	collect (CORPUS_DIR);
	if (paths->len == 0) {
		fprintf (stderr, "no corpus messages under %s\n", CORPUS_DIR);
		return 1;
	}
	struct CMUnitTest *tests = g_new0 (struct CMUnitTest, paths->len);
	for (guint i = 0; i < paths->len; i++) {
		const char *p = paths->pdata[i];
		tests[i].name = p + strlen (CORPUS_DIR) + 1;
		tests[i].test_func = test_message;
		tests[i].initial_state = paths->pdata[i];
	}
	int failed = _cmocka_run_group_tests ("corpus", tests, paths->len, NULL, NULL);
	g_free (tests);
	g_ptr_array_unref (paths);
	bdb_rules_free (rules);
	return failed;
}
