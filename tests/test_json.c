/* The command line's JSON writer: commas in nested documents, escapes,
 * numbers, and valid JSON from any bytes (read back with json-glib). */
#include <string.h>
#include <json-glib/json-glib.h>
#include "testutil.h"
#include "json.h"

/* What @j printed, without the newline.  g_free(). */
static char *
printed (CliJson *j)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream (&buf, &len);
	cli_json_print (j, f);
	fclose (f);
	assert_true (len > 0 && buf[len - 1] == '\n');
	buf[len - 1] = '\0';
	return buf;
}

static void
test_structure (void **state)
{
	g_autoptr (CliJson) j = cli_json_new ();
	cli_json_begin_object (j);
	cli_json_member_string (j, "a", "x");
	cli_json_member (j, "list");
	cli_json_begin_array (j);
	cli_json_int (j, 1);
	cli_json_begin_object (j);
	cli_json_end_object (j);
	cli_json_begin_array (j);
	cli_json_end_array (j);
	cli_json_null (j);
	cli_json_string (j, NULL);
	cli_json_end_array (j);
	cli_json_member_bool (j, "t", TRUE);
	cli_json_member_bool (j, "f", FALSE);
	cli_json_member_int (j, "neg", -9007199254740993LL);
	cli_json_member_double (j, "d", 0.25);
	cli_json_member_double (j, "nan", 0.0 / 0.0);
	cli_json_end_object (j);
	g_autofree char *s = printed (j);
	assert_string_equal (s, "{\"a\":\"x\",\"list\":[1,{},[],null,null],\"t\":true,\"f\":false,"
	                        "\"neg\":-9007199254740993,\"d\":0.25,\"nan\":null}");
	/* The writer is empty again after printing. */
	cli_json_begin_array (j);
	cli_json_end_array (j);
	g_autofree char *again = printed (j);
	assert_string_equal (again, "[]");
}

static void
test_escapes (void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain ascii", "\"plain ascii\"" },
		{ "q\"b\\s/", "\"q\\\"b\\\\s/\"" },
		{ "\b\f\n\r\t\x01\x1b[31m\x7f", "\"\\b\\f\\n\\r\\t\\u0001\\u001b[31m\x7f\"" },
		{ "caf\xc3\xa9 \xe7\x94\xa8\xe6\x88\xb7", "\"caf\xc3\xa9 \xe7\x94\xa8\xe6\x88\xb7\"" },
		{ "C1 \xc2\x9b" "2J", "\"C1 \\u009b2J\"" },
		{ "ls\xe2\x80\xa8ps\xe2\x80\xa9", "\"ls\\u2028ps\\u2029\"" },
		{ "bad \xff\xfe end", "\"bad \xef\xbf\xbd\xef\xbf\xbd end\"" },
		{ "cut \xe2\x80", "\"cut \xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "over \xc0\xaf long", "\"over \xef\xbf\xbd\xef\xbf\xbd long\"" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *q = cli_json_quote (cases[i].in);
		if (strcmp (q, cases[i].out) != 0)
			fail_msg ("case %zu: got %s, want %s", i, q, cases[i].out);
	}
}

/* Every byte value in a string and a member name: the line parses, and
 * valid UTF-8 comes back unchanged. */
static void
test_any_bytes_read_back (void **state)
{
	char all[256];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char) i;
	all[255] = '\0';
	const char *valid = "ok \xe2\x80\xae rtl \xf0\x9f\x93\xa7 \"\\ \x1f";
	g_autoptr (CliJson) j = cli_json_new ();
	cli_json_begin_object (j);
	cli_json_member_string (j, all, all);
	cli_json_member_string (j, "valid", valid);
	cli_json_end_object (j);
	g_autofree char *s = printed (j);
	assert_true (g_utf8_validate (s, -1, NULL));
	g_autoptr (JsonParser) p = json_parser_new ();
	GError *error = NULL;
	if (!json_parser_load_from_data (p, s, -1, &error))
		fail_msg ("not JSON: %s: %s", error->message, s);
	JsonObject *o = json_node_get_object (json_parser_get_root (p));
	assert_int_equal (json_object_get_size (o), 2);
	assert_string_equal (json_object_get_string_member (o, "valid"), valid);
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_structure),
		cmocka_unit_test (test_escapes),
		cmocka_unit_test (test_any_bytes_read_back),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
