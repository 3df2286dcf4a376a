/* What the libFuzzer harnesses share: process set-up and the checks that
 * every string the library hands out keeps its promises (report.h: valid
 * UTF-8, whitespace collapsed, never empty).  A broken promise aborts, so
 * the fuzzer reports it like a crash.  Header-only: each harness is one
 * translation unit. */
#ifndef BOUNCEDB_FUZZ_COMMON_H
#define BOUNCEDB_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/lsan_interface.h>
#include <bouncedb/bouncedb.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) do { if (!(cond)) fuzz_fail (#cond, __FILE__, __LINE__); } while (0)

static inline G_GNUC_NORETURN void
fuzz_fail (const char *what, const char *file, int line)
{
	fprintf (stderr, "%s:%d: check failed: %s\n", file, line, what);
	abort ();
}

static inline void
fuzz_quiet (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
	(void) data;
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		fprintf (stderr, "%s: %s\n", domain ? domain : "", message);
}

static inline void
fuzz_setup (void)
{
	/* GLib's slice allocator would hide use-after-free and leaks from
	 * AddressSanitizer.  A critical is a precondition of GLib or GMime
	 * broken by what we passed: a bug, so it aborts.  Warnings about bad
	 * input are not failures and would only slow the fuzzer down. */
	g_setenv ("G_SLICE", "always-malloc", TRUE);
	g_setenv ("G_DEBUG", "gc-friendly", TRUE);
	g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
	g_log_set_default_handler (fuzz_quiet, NULL);

	/* GMime's and GLib's one-time allocations (types, filters, charset
	 * converters) live as long as the process.  Made here, with leak
	 * detection off, they are never reported: LeakSanitizer cannot match
	 * them to tests/lsan.supp when its fast unwinder stops at g_malloc
	 * (the system libraries have no frame pointers). */
	static const char warm_up[] =
		"From: MAILER-DAEMON@mx.example.net\nTo: a@example.com\n"
		"Subject: =?iso-8859-1?q?Undelivered_=E9?=\nMIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
		"--B\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
		"The mail system =E9=00\n\n<bob@example.net>: 550 5.1.1 user unknown\n"
		"--B\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\nPGI+aGk8L2I+\n"
		"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n"
		"Final-Recipient: utf-8; b\\x{30C6}@xn--bcher-kva.example\nAction: failed\nStatus: 5.1.1\n\n"
		"--B\nContent-Type: message/rfc822\n\nFrom: a@example.com\nTo: b@b\u00fccher.example\n\nhi\n"
		"--B--\n";
	__lsan_disable ();
	BdbReport *r = bdb_report_parse_bytes (warm_up, sizeof warm_up - 1, NULL, NULL);
	bdb_report_free (r);
	char *a = bdb_address_normalize ("b@b\u00fccher.example", 0, NULL);
	g_free (a);
	__lsan_enable ();
}

/* fuzz_setup(), and the built-in rules for a harness that classifies. */
static inline BdbRules *
fuzz_setup_with_rules (void)
{
	fuzz_setup ();
	BdbRules *rules = bdb_rules_new (NULL);
	if (!rules)
		abort ();
	return rules;
}

/* A message the parser refused: with a limit or parse error of ours. */
static inline void
fuzz_check_refusal (GError *error)
{
	FUZZ_CHECK (error && error->domain == BDB_ERROR);
	FUZZ_CHECK (error->code == BDB_ERROR_LIMIT || error->code == BDB_ERROR_PARSE);
	g_error_free (error);
}

/* A report string: NULL, or non-empty single-line valid UTF-8. */
static inline size_t
fuzz_touch_string (const char *s)
{
	if (!s)
		return 0;
	size_t n = strlen (s);
	FUZZ_CHECK (n > 0);
	FUZZ_CHECK (g_utf8_validate (s, (gssize) n, NULL));
	FUZZ_CHECK (!strpbrk (s, "\r\n\t"));
	FUZZ_CHECK (s[0] != ' ' && s[n - 1] != ' ');
	return n;
}

static inline void
fuzz_touch_verdict (const BdbVerdict *v)
{
	FUZZ_CHECK ((unsigned) v->reason < BDB_REASON_COUNT);
	FUZZ_CHECK ((unsigned) v->disposition < BDB_DISPOSITION_COUNT);
	FUZZ_CHECK ((unsigned) v->scope < BDB_SCOPE_COUNT);
	FUZZ_CHECK ((unsigned) v->evidence < BDB_FIELD_COUNT);
	FUZZ_CHECK (bdb_reason_name (v->reason) != NULL);
	if (v->rule) {
		FUZZ_CHECK (bdb_rule_id (v->rule) != NULL);
		FUZZ_CHECK (bdb_rule_origin (v->rule) != NULL);
		FUZZ_CHECK (bdb_rule_text (v->rule) != NULL);
	}
}

/* Read everything a report offers, as the CLI and the store do. */
static inline void
fuzz_touch_report (const BdbReport *r, const BdbRules *rules)
{
	FUZZ_CHECK ((unsigned) bdb_report_kind (r) <= BDB_KIND_AUTOREPLY);
	const char *problem = bdb_report_problem (r);
	fuzz_touch_string (problem);
	const guint8 *fp = bdb_report_fingerprint (r);
	FUZZ_CHECK (fp != NULL);
	const char *name, *value;
	for (guint i = 0; bdb_report_get_extension (r, i, &name, &value); i++) {
		fuzz_touch_string (name);
		fuzz_touch_string (value);
	}
	for (guint i = 0; bdb_report_get_sender_candidate (r, i); i++)
		fuzz_touch_string (bdb_report_get_sender_candidate (r, i));
	fuzz_touch_string (bdb_report_header (r, "X-Campaign-ID"));
	for (guint f = 0; f < BDB_FIELD_COUNT; f++) {
		FUZZ_CHECK (bdb_field_name ((BdbField) f) != NULL);
		fuzz_touch_string (bdb_report_get (r, (BdbField) f));
	}
	guint n = bdb_report_n_records (r);
	FUZZ_CHECK (n == 0 || bdb_report_kind (r) != BDB_KIND_NONE);
	for (guint i = 0; i < n; i++) {
		const BdbRecord *rec = bdb_report_get_record (r, i);
		FUZZ_CHECK (rec != NULL);
		FUZZ_CHECK (bdb_record_report (rec) == r);
		for (guint f = 0; f < BDB_FIELD_COUNT; f++)
			fuzz_touch_string (bdb_record_get (rec, (BdbField) f));
		/* Every record names its recipient, and the address reads back. */
		const char *rcpt = bdb_record_get (rec, BDB_FIELD_RECIPIENT);
		FUZZ_CHECK (rcpt != NULL);
		FUZZ_CHECK (bdb_address_domain (rcpt) != NULL);
		(void) bdb_record_time (rec);
		BdbVerdict v;
		bdb_classify (rules, rec, &v);
		fuzz_touch_verdict (&v);
	}
	FUZZ_CHECK (bdb_report_get_record (r, n) == NULL);
}

#endif
