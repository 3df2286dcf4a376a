/* VERP: decoding the recipient from the address a bounce came back to,
 * both formats and the signed one; the reader of last resort. */
#include <string.h>
#include "testutil.h"
#include "verp.h"

static void
test_decode (void **state)
{
	static const struct {
		const char *address, *want;
	} cases[] = {
		/* Postfix's += delimiters */
		{ "bounces+alice=example.com@lists.example.org", "alice@example.com" },
		{ "Bounces+Alice=Example.COM@lists.example.org", "alice@example.com" },
		/* Mailman's LIST-bounces+LOCAL=DOMAIN */
		{ "news-bounces+bob=example.net@lists.example.org", "bob@example.net" },
		/* a local part with '+' and '=' of its own: the last '=' ends it */
		{ "bounces+carol+tag=example.com@lists.example.org", "carol+tag@example.com" },
		{ "bounces+a=b=example.com@lists.example.org", "a=b@example.com" },
		/* signed (sign --verp): the token after the recipient is left out */
		{ "bounces+alice=example.com+k1.20415.3f1c0a9b2e7d@lists.example.org", "alice@example.com" },
		/* not VERP: no recipient, a plain token, not a bounce base, broken */
		{ "bounces@lists.example.org", NULL },
		{ "bounces+k1.20415.3f1c0a9b2e7d@lists.example.org", NULL },
		{ "news-bounces+3a4f9c@lists.example.org", NULL },   /* Mailman's probe token */
		{ "alice+tag=x@example.com", NULL },
		{ "notbounces+alice=example.com@lists.example.org", NULL },
		{ "bounces+=example.com@lists.example.org", NULL },
		{ "bounces+alice=@lists.example.org", NULL },
		{ "bounces+alice=exa mple.com@lists.example.org", NULL },
		{ "bounces+alice=example.com", NULL },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *got = bdb_verp_decode (cases[i].address, NULL);
		if (g_strcmp0 (got, cases[i].want) != 0)
			fail_msg ("%s: got %s, want %s", cases[i].address, got ? got : "NULL",
			          cases[i].want ? cases[i].want : "NULL");
	}
	/* A configured base: its local part, at its domain only. */
	const char *const bases[] = { "returns@mail.example.org", NULL };
	g_autofree char *a = bdb_verp_decode ("returns+dan=example.com@mail.example.org", bases);
	assert_string_equal (a, "dan@example.com");
	g_autofree char *b = bdb_verp_decode ("returns+dan=example.com@other.example.org", bases);
	assert_null (b);
	g_autofree char *c = bdb_verp_decode ("returns+dan=example.com@mail.example.org", NULL);
	assert_null (c);
}

static void
test_encode_and_sign (void **state)
{
	g_autofree char *e = bdb_verp_encode ("bounces@lists.example.org", "alice+news@example.com", NULL);
	assert_string_equal (e, "bounces+alice+news=example.com@lists.example.org");
	g_autofree char *round = bdb_verp_decode (e, NULL);
	assert_string_equal (round, "alice+news@example.com");
	assert_null (bdb_verp_encode ("bounces", "alice@example.com", NULL));
	assert_null (bdb_verp_encode ("bounces@lists.example.org", "alice", NULL));

	/* The signed VERP form verifies with the same keys, for its recipient
	 * only, and decodes to that recipient. */
	GError *error = NULL;
	g_autoptr (BdbSigner) s = bdb_signer_new ("k1 a-secret-that-is-long-enough\n", &error);
	g_autofree char *env = bdb_sign_envelope_verp (s, "bounces@lists.example.org", "alice@example.com", 20400, &error);
	assert_non_null (env);
	assert_true (g_str_has_prefix (env, "bounces+alice=example.com+k1.20400."));
	assert_int_equal (bdb_verify_envelope (s, env, "alice@example.com", 20401, 7), BDB_TOKEN_VALID);
	assert_int_equal (bdb_verify_envelope (s, env, "bob@example.com", 20401, 7), BDB_TOKEN_BAD_MAC);
	g_autofree char *who = bdb_verp_decode (env, NULL);
	assert_string_equal (who, "alice@example.com");
	/* The plain form is unchanged. */
	g_autofree char *plain = bdb_sign_envelope (s, "bounces@lists.example.org", "alice@example.com", 20400, &error);
	assert_true (g_str_has_prefix (plain, "bounces+k1.20400."));
	g_autofree char *nobody = bdb_verp_decode (plain, NULL);
	assert_null (nobody);
}

/* A bounce whose text names nobody, delivered to @to. */
static char *
useless_notice (const char *to, const char *from)
{
	return g_strdup_printf ("Delivered-To: %s\n"
	                        "From: %s\n"
	                        "To: %s\n"
	                        "Subject: Delivery failure\n"
	                        "Date: Mon, 16 Nov 2026 10:00:00 +0000\n"
	                        "Message-ID: <n1@mx.example.net>\n"
	                        "\n"
	                        "Your message could not be delivered.\n"
	                        "550 5.1.1 mailbox unavailable\n", to, from, to);
}

static void
test_reader (void **state)
{
	/* The text names nobody: the VERP address does. */
	g_autofree char *msg = useless_notice ("bounces+alice=example.com@lists.example.org", "MAILER-DAEMON@mx.example.net");
	g_autoptr (BdbReport) r = test_parse (msg);
	assert_int_equal (bdb_report_kind (r), BDB_KIND_DSN);
	assert_int_equal (bdb_report_n_records (r), 1);
	const BdbRecord *rec = bdb_report_get_record (r, 0);
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_RECIPIENT), "alice@example.com");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_RECIPIENT_SOURCE), "verp");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_EXTRACTOR), "verp");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_STATUS), "5.1.1");

	/* Mailman's format, the same way. */
	g_autofree char *mm = useless_notice ("news-bounces+bob=example.net@lists.example.org", "MAILER-DAEMON@mx.example.net");
	g_autoptr (BdbReport) r2 = test_parse (mm);
	assert_int_equal (bdb_report_n_records (r2), 1);
	assert_string_equal (bdb_record_get (bdb_report_get_record (r2, 0), BDB_FIELD_RECIPIENT), "bob@example.net");

	/* A person writing to the VERP address is not a bounce. */
	g_autofree char *person = g_strdup_printf ("Delivered-To: bounces+alice=example.com@lists.example.org\n"
	                                           "From: Alice <alice@example.com>\n"
	                                           "Subject: Re: News\n\nThanks!\n");
	g_autoptr (BdbReport) r3 = test_parse (person);
	assert_int_equal (bdb_report_kind (r3), BDB_KIND_NONE);
	assert_int_equal (bdb_report_n_records (r3), 0);

	/* A report that names someone keeps its own recipient; the VERP one
	 * is there to compare. */
	const char *fields[] = { "Final-Recipient: rfc822; carol@example.com", "Action: failed", "Status: 5.1.1", NULL };
	g_autofree char *dsn = test_dsn_message (fields);
	g_autofree char *delivered = g_strconcat ("Delivered-To: bounces+alice=example.com@lists.example.org\n", dsn, NULL);
	g_autoptr (BdbReport) r4 = test_parse (delivered);
	assert_int_equal (bdb_report_n_records (r4), 1);
	rec = bdb_report_get_record (r4, 0);
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_RECIPIENT), "carol@example.com");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_VERP_RECIPIENT), "alice@example.com");

	/* A DSN block without a recipient takes the VERP one. */
	const char *blind[] = { "Action: failed", "Status: 5.1.1", NULL };
	g_autofree char *dsn2 = test_dsn_message (blind);
	g_autofree char *delivered2 = g_strconcat ("Delivered-To: bounces+dan=example.com@lists.example.org\n", dsn2, NULL);
	g_autoptr (BdbReport) r5 = test_parse (delivered2);
	assert_int_equal (bdb_report_n_records (r5), 1);
	rec = bdb_report_get_record (r5, 0);
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_RECIPIENT), "dan@example.com");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_RECIPIENT_SOURCE), "verp");
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_decode),
		cmocka_unit_test (test_encode_and_sign),
		cmocka_unit_test (test_reader),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
