/* Address normalisation: the spellings real reports use, and what must be
 * refused. */
#include <string.h>
#include "testutil.h"

typedef struct {
	const char *input;
	BdbAddressFlags flags;
	const char *expected;  /* NULL: must be refused */
} Case;

static const Case cases[] = {
	/* Report spellings. */
	{ "rfc822; <Kijitora@Example.COM>", 0, "kijitora@example.com" },
	{ "RFC822;kijitora@example.com", 0, "kijitora@example.com" },
	{ "  rfc822; kijitora@example.com  ", 0, "kijitora@example.com" },
	{ "Kijitora Neko <Kijitora@Example.COM>", 0, "kijitora@example.com" },
	{ "\"Neko, Kiji\" <kiji@example.com>", 0, "kiji@example.com" },
	{ "kijitora@example.com (Kijitora)", 0, "kijitora@example.com" },
	{ "<kijitora@example.com>.", 0, "kijitora@example.com" },
	{ "mailto:User@Example.com", 0, "user@example.com" },
	{ "user@example.com.", 0, "user@example.com" },
	{ "user@[192.0.2.1]", 0, "user@[192.0.2.1]" },
	{ "<postmaster@[192.0.2.1]>", 0, "postmaster@[192.0.2.1]" },
	{ "\"john doe\"@example.com", 0, "\"john doe\"@example.com" },
	/* RFC 3461 xtext: only escapes xtext needs are decoded. */
	{ "rfc822;user+2Btag@example.com", 0, "user+tag@example.com" },
	{ "rfc822;a+3Db@example.com", 0, "a=b@example.com" },
	{ "user+tag@example.com", 0, "user+tag@example.com" },
	{ "user+41@example.com", 0, "user+41@example.com" },
	{ "user+2btag@example.com", 0, "user+2btag@example.com" },
	/* RFC 6533: utf-8 type, \x{...} escapes and raw UTF-8. */
	{ "utf-8; \\x{7528}\\x{6237}@example.com", 0, "用户@example.com" },
	{ "utf-8; 用户@例子.example", BDB_ADDRESS_UNICODE_DOMAIN, "用户@例子.example" },
	{ "utf-8; 用户@例子.example", 0, "用户@xn--fsqu00a.example" },
	{ "User@BÜCHER.example", 0, "user@xn--bcher-kva.example" },
	/* Case of the local part. */
	{ "Bob.Smith@EXAMPLE.com", BDB_ADDRESS_KEEP_LOCAL_CASE, "Bob.Smith@example.com" },
	{ "Bob.Smith@EXAMPLE.com", 0, "bob.smith@example.com" },
	/* Refused. */
	{ "no-at-sign", 0, NULL },
	{ "@example.com", 0, NULL },
	{ "user@", 0, NULL },
	{ "user@exam ple.com", BDB_ADDRESS_STRICT, NULL },
	{ "user@example..com", 0, NULL },
	{ "user@-example.com", 0, NULL },
	{ "rfc822;", 0, NULL },
	{ "a\x1b[31m@example.com", 0, NULL },
	{ "user@exa\x01mple.com", 0, NULL },
	{ "\xff\xfe@example.com", 0, NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com", 0, NULL },
	/* Strict input (lists, the command line): no prose around it. */
	{ "  <Alice@Example.com>  ", BDB_ADDRESS_STRICT, "alice@example.com" },
	{ "Alice <alice@example.com>", BDB_ADDRESS_STRICT, NULL },
	{ "a b@example.com", BDB_ADDRESS_STRICT, NULL },
	{ "rfc822; alice@example.com", BDB_ADDRESS_STRICT, NULL },
	{ "alice@example.com,", BDB_ADDRESS_STRICT, NULL },
};

static void
test_normalize_table (void **state)
{
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		GError *error = NULL;
		char *got = bdb_address_normalize (cases[i].input, cases[i].flags, &error);
		if (cases[i].expected) {
			if (!got)
				fail_msg ("'%s': refused (%s), want '%s'", cases[i].input, error->message,
				          cases[i].expected);
			if (strcmp (got, cases[i].expected) != 0)
				fail_msg ("'%s': got '%s', want '%s'", cases[i].input, got, cases[i].expected);
		} else {
			if (got)
				fail_msg ("'%s': accepted as '%s', want refused", cases[i].input, got);
			assert_non_null (error);
			assert_int_equal (error->code, BDB_ERROR_INVALID);
			g_error_free (error);
		}
		g_free (got);
	}
}

static void
test_domain (void **state)
{
	assert_string_equal (bdb_address_domain ("a@b.example"), "b.example");
	assert_string_equal (bdb_address_domain ("\"x@y\"@b.example"), "b.example");
	assert_null (bdb_address_domain ("nodomain"));
	assert_null (bdb_address_domain (NULL));
}

static void
test_xtext (void **state)
{
	char a[] = "a+2Bb+3Dc+20d";
	assert_string_equal (bdb_xtext_decode_inplace (a), "a+b=c d");
	char b[] = "trailing+2";
	assert_string_equal (bdb_xtext_decode_inplace (b), "trailing+2");
	char c[] = "+";
	assert_string_equal (bdb_xtext_decode_inplace (c), "+");
}

/* RFC 5321's lengths, in octets: local part 64, domain 253 (255 on the
 * wire), label 63, the whole address 254.  Longer ones are no address
 * anybody can receive mail at, and made database keys LMDB cannot hold
 * (issue 18: a 64-octet local part at a 250-octet domain blocked a pipe
 * and a sweep forever). */
static void
test_rfc5321_lengths (void **state)
{
	g_autofree char *l64 = g_strnfill (64, 'l');
	g_autofree char *l65 = g_strnfill (65, 'l');
	g_autofree char *label63 = g_strnfill (63, 'd');
	g_autofree char *label64 = g_strnfill (64, 'd');
	/* 63+1+63+1+63+1+57 = 249 octets, +".com" = 253. */
	g_autofree char *tail57 = g_strnfill (57, 'd');
	g_autofree char *d253 = g_strdup_printf ("%s.%s.%s.%s.com", label63, label63, label63, tail57);
	g_autofree char *d254 = g_strdup_printf ("%s.%s.%s.%sd.com", label63, label63, label63, tail57);
	assert_int_equal (strlen (d253), 253);
	const struct {
		const char *local, *domain;
		gboolean valid;
	} t[] = {
		{ l64, "example.com", TRUE },
		{ l65, "example.com", FALSE },
		{ "a", label63, TRUE },
		{ "a", label64, FALSE },
		{ "a", d253, TRUE },          /* 255 octets in all: over 254 */
		{ "a", d254, FALSE },
		{ l64, d253, FALSE },         /* the case of issue 18: 318 octets */
	};
	for (gsize i = 0; i < G_N_ELEMENTS (t); i++) {
		g_autofree char *in = g_strdup_printf ("%s@%s", t[i].local, t[i].domain);
		for (int flags = 0; flags < 8; flags++) {
			GError *error = NULL;
			g_autofree char *got = bdb_address_normalize (in, (BdbAddressFlags) flags, &error);
			gboolean want = t[i].valid && strlen (in) <= 254;
			if (want != (got != NULL))
				fail_msg ("case %zu (%zu octets), flags %d: %s", i, strlen (in), flags,
				          got ? "accepted" : error->message);
			if (got)
				assert_true (strlen (got) <= 254);
			else
				assert_int_equal (error->code, BDB_ERROR_INVALID);
			g_clear_error (&error);
		}
	}
	/* 254 octets exactly is an address. */
	g_autofree char *l62 = g_strnfill (62, 'l');
	g_autofree char *d191 = g_strdup_printf ("%s.%s.%s", label63, label63, label63);
	g_autofree char *a254 = g_strdup_printf ("%s@%s", l62, d191);
	assert_int_equal (strlen (a254), 254);
	g_autofree char *ok = bdb_address_normalize (a254, 0, NULL);
	assert_non_null (ok);
	/* A label that is not ASCII is measured in its A-label form: 58 'a'
	 * and an 'é' are 60 octets of UTF-8 and 66 as "xn--...". */
	g_autofree char *a58 = g_strnfill (58, 'a');
	g_autofree char *idn = g_strdup_printf ("x@%s\xc3\xa9.example", a58);
	g_autofree char *idn_out = bdb_address_normalize (idn, 0, NULL);
	assert_null (idn_out);
}

/* Mailboxes as lists write them (mailman members): one address inside,
 * or none. */
static void
test_mailbox (void **state)
{
	static const struct {
		const char *input;
		const char *want;   /* NULL: refused */
	} mailboxes[] = {
		{ "Bob Person <Bob@Example.NET>", "bob@example.net" },
		{ "\"Person, Bob\" <bob@example.net>", "bob@example.net" },
		{ "bob@example.net (Bob Person)", "bob@example.net" },
		{ "\"Bob (x)\" <bob@example.net> (a (nested) comment)", "bob@example.net" },
		{ "=?UTF-8?Q?B=C3=B6b?= <bob@example.net>", "bob@example.net" },
		{ "<bob@example.net>", "bob@example.net" },
		{ "M\xc3\xbcller <m@b\xc3\xbc" "cher.example>", "m@xn--bcher-kva.example" },
		{ "Bob <bob@example.net>, Al <al@example.net>", NULL },  /* two */
		{ "Friends: a@example.net, b@example.net;", NULL },      /* a group */
		{ "bob@example.net extra", NULL },
		{ "Bob Person bob@example.net", NULL },
		{ "Bob <>", NULL },
		{ "not an address", NULL },
		{ "", NULL },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (mailboxes); i++) {
		GError *error = NULL;
		g_autofree char *got = bdb_address_from_mailbox (mailboxes[i].input, 0, &error);
		if (mailboxes[i].want) {
			assert_non_null (got);
			assert_string_equal (got, mailboxes[i].want);
		} else {
			assert_null (got);
			assert_true (g_error_matches (error, BDB_ERROR, BDB_ERROR_INVALID));
		}
		g_clear_error (&error);
	}
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_normalize_table),
		cmocka_unit_test (test_rfc5321_lengths),
		cmocka_unit_test (test_domain),
		cmocka_unit_test (test_xtext),
		cmocka_unit_test (test_mailbox),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
