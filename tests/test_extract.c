/* The text extractors: one small message per family, and the ways a text
 * reader could suppress the wrong address (an address only in the
 * returned original or a quoted copy, the sender's own address, a help
 * desk's, a person quoting a bounce). */
#include <string.h>
#include "testutil.h"
#include "view.h"
#include "text.h"

/* The records of @msg as "recipient action status reply;" in order. */
static char *
summary (const char *msg)
{
	BdbReport *r = test_parse (msg);
	GString *out = g_string_new (NULL);
	for (guint i = 0; i < bdb_report_n_records (r); i++) {
		const BdbRecord *rec = bdb_report_get_record (r, i);
		const char *rc = bdb_record_get (rec, BDB_FIELD_RECIPIENT);
		const char *ac = bdb_record_get (rec, BDB_FIELD_ACTION);
		const char *st = bdb_record_get (rec, BDB_FIELD_STATUS);
		const char *rp = bdb_record_get (rec, BDB_FIELD_REPLY_CODE);
		g_string_append_printf (out, "%s %s %s %s;", rc ? rc : "-", ac ? ac : "-", st ? st : "-",
		                        rp ? rp : "-");
	}
	bdb_report_free (r);
	return g_string_free (out, FALSE);
}

static const char *
extractor_of (BdbReport *r)
{
	return bdb_report_get (r, BDB_FIELD_EXTRACTOR);
}

#define DAEMON_HEADERS(subject) \
	"Return-Path: <>\n" \
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n" \
	"To: alice@example.com\n" \
	"Subject: " subject "\n" \
	"Date: Mon, 10 Jun 2024 09:00:00 +0000\n" \
	"Message-ID: <bounce-1@mx.example.net>\n" \
	"MIME-Version: 1.0\n" \
	"Content-Type: text/plain; charset=us-ascii\n"

#define RETURNED_ORIGINAL \
	"Return-Path: <alice@example.com>\n" \
	"From: Alice <alice@example.com>\n" \
	"To: bob@example.org, carol@example.org\n" \
	"Subject: Hello\n" \
	"\n" \
	"Carol, please forward this to <dave@example.org>:\n" \
	"  erin@example.org\n" \
	"    wrote that she moved.\n" \
	"Unknown user: frank@example.org\n"

static void
assert_summary (const char *msg, const char *want)
{
	g_autofree char *got = summary (msg);
	if (strcmp (got, want) != 0)
		fail_msg ("got '%s', want '%s'", got, want);
}

/* ---- text helpers ------------------------------------------------------- */

static void
test_find_address (void **state)
{
	static const struct {
		const char *text;
		const char *addr;
	} cases[] = {
		{ "Recipient: [SMTP:gabe@example.org]", "gabe@example.org" },
		{ "<bob@example.com>: host x said", "bob@example.com" },
		{ "mail to kijitora@example.net.", "kijitora@example.net" },
		{ "RCPT TO:<x.y+tag@mail.example.co.jp>", "x.y+tag@mail.example.co.jp" },
		{ "version 1.2@host", NULL },
		{ "user@localhost is not a domain", NULL },
		{ "at 10.0.0.1@192.0.2.1 nothing", NULL },
		{ "no address here", NULL },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		const char *t = cases[i].text, *s, *e;
		gboolean found = bdb_text_find_address (t, t + strlen (t), &s, &e);
		if (!cases[i].addr) {
			if (found)
				fail_msg ("'%s': found '%.*s'", t, (int) (e - s), s);
			continue;
		}
		if (!found)
			fail_msg ("'%s': nothing found", t);
		g_autofree char *got = g_strndup (s, (gsize) (e - s));
		assert_string_equal (got, cases[i].addr);
	}
}

/* The case-blind search every extractor leans on: compared with a
 * plain scan over every position, on texts made to trip its shortcuts
 * (the needle's first letter in both cases, matches at either end, a
 * needle longer than the text, a first byte that is not a letter). */
static const char *
naive_find (const char *p, const char *end, const char *needle)
{
	gsize n = strlen (needle);
	for (; p + n <= end; p++)
		if (g_ascii_strncasecmp (p, needle, n) == 0)
			return p;
	return NULL;
}

static void
test_find_nocase (void **state)
{
	static const char *const texts[] = {
		"", "u", "User unknown", "uSeR UNKNOWN", "uuuuUUUUuser unknown",
		"no such user here: USER UNKNOWN.", "<550> 5.1.1 user", "ends with user",
		"user", "550-5.1.1 <a@b> user unknown\n550 5.1.1 <a@b> User Unknown",
	};
	static const char *const needles[] = {
		"user unknown", "USER", "u", "<550>", "5.1.1", "user unknown.", "unknown\n550",
		"ser", "x", "user unknownX",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (texts); i++) {
		const char *t = texts[i], *end = t + strlen (t);
		for (gsize j = 0; j < G_N_ELEMENTS (needles); j++) {
			const char *want = naive_find (t, end, needles[j]);
			const char *got = bdb_text_find_nocase_n (t, end, needles[j]);
			if (got != want)
				fail_msg ("'%s' in '%s': at %td, want %td", needles[j], t,
				          got ? got - t : -1, want ? want - t : -1);
			/* Bounded: a match running past @end is no match. */
			if (end > t) {
				want = naive_find (t, end - 1, needles[j]);
				got = bdb_text_find_nocase_n (t, end - 1, needles[j]);
				if (got != want)
					fail_msg ("'%s' in '%.*s': at %td, want %td", needles[j], (int) (end - 1 - t), t,
					          got ? got - t : -1, want ? want - t : -1);
			}
			assert_ptr_equal (bdb_text_find_nocase (t, needles[j]), naive_find (t, end, needles[j]));
		}
	}
}

static void
test_notice_end (void **state)
{
	static const char *const texts[] = {
		"notice\n--- Below this line is a copy of the message.\nTo: x@example.org\n",
		"notice\n   ----- Unsent message follows -----\nTo: x@example.org\n",
		"notice\n------ This is a copy of the message, including all the headers. ------\n",
		"notice\n\nReceived: from mx.example.org\nTo: x@example.org\n",
		"notice\nOriginal message headers:\n\nTo: x@example.org\n",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (texts); i++) {
		const char *t = texts[i];
		const char *end = bdb_text_notice_end (t, t + strlen (t));
		if (!g_str_has_prefix (t, "notice\n") || end - t < 7 || end - t > 8)
			fail_msg ("case %zu: notice ends at %td", i, end - t);
	}
	const char *plain = "no marker\nat all\n";
	assert_ptr_equal (bdb_text_notice_end (plain, plain + strlen (plain)), plain + strlen (plain));
}

/* ---- what must never become a record ------------------------------------ */

/* Addresses that appear only in the returned original, even laid out like
 * the notice's own lines, are never reported. */
static void
test_original_body_ignored (void **state)
{
	assert_summary (DAEMON_HEADERS ("failure notice")
		"\n"
		"Hi. This is the qmail-send program at mx.example.net.\n"
		"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
		"This is a permanent error; I've given up. Sorry it didn't work out.\n"
		"\n"
		"<bob@example.org>:\n"
		"Sorry, no mailbox here by that name. (#5.1.1)\n"
		"\n"
		"--- Below this line is a copy of the message.\n"
		"\n" RETURNED_ORIGINAL,
		"bob@example.org failed 5.1.1 -;");

	/* The same with an Exim list and the original pasted as a header block
	 * without a marker. */
	assert_summary (DAEMON_HEADERS ("Mail delivery failed: returning message to sender")
		"X-Failed-Recipients: bob@example.org\n"
		"\n"
		"This message was created automatically by mail delivery software.\n"
		"\n"
		"A message that you sent could not be delivered to one or more of its\n"
		"recipients. This is a permanent error. The following address(es) failed:\n"
		"\n"
		"  bob@example.org\n"
		"    SMTP error from remote mail server after RCPT TO:<bob@example.org>:\n"
		"    host mx.example.org [192.0.2.25]: 550 5.1.1 User unknown\n"
		"\n" RETURNED_ORIGINAL,
		"bob@example.org failed 5.1.1 550;");
}

/* A copy of the original attached as message/rfc822 is never read, even
 * when the notice names nobody. */
static void
test_attached_original_ignored (void **state)
{
	const char *msg =
		"Return-Path: <>\n"
		"From: MAILER-DAEMON@mx.example.net\n"
		"To: alice@example.com\n"
		"Subject: Undelivered Mail Returned to Sender\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"B\"\n"
		"\n"
		"--B\n"
		"Content-Type: text/plain\n"
		"\n"
		"This is the mail system at host mx.example.net.\n"
		"\n"
		"Your message could not be delivered to one or more recipients.\n"
		"\n"
		"--B\n"
		"Content-Type: message/rfc822\n"
		"\n"
		"From: alice@example.com\n"
		"To: bob@example.org\n"
		"Subject: hi\n"
		"\n"
		"<bob@example.org>: host said: 550 User unknown\n"
		"--B--\n";
	BdbReport *r = test_parse (msg);
	assert_int_equal (bdb_report_n_records (r), 0);
	assert_non_null (bdb_report_problem (r));
	bdb_report_free (r);
}

/* The sender's own address, the bounce's sender and a help desk named in
 * the notice are not failed recipients. */
static void
test_our_addresses_ignored (void **state)
{
	assert_summary (DAEMON_HEADERS ("Undelivered Mail Returned to Sender")
		"\n"
		"This is the mail system at host mx.example.net.\n"
		"\n"
		"For further assistance, please send mail to <postmaster@example.net>.\n"
		"\n"
		"<alice@example.com>: loops back to myself\n"
		"\n"
		"<MAILER-DAEMON@mx.example.net>: nothing\n"
		"\n"
		"<bob@example.org>: host mx.example.org[192.0.2.25] said: 550 5.1.1\n"
		"    <bob@example.org>: Recipient address rejected: User unknown (in reply to\n"
		"    RCPT TO command)\n",
		"bob@example.org failed 5.1.1 550;");
}

/* A person forwarding or quoting a bounce is no bounce. */
static void
test_quoting_person_gives_nothing (void **state)
{
	const char *msg =
		"From: Carol <carol@example.org>\n"
		"To: helpdesk@example.com\n"
		"Subject: Fwd: Undelivered Mail Returned to Sender\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain\n"
		"\n"
		"Why did this fail?\n"
		"\n"
		"> This is the mail system at host mx.example.net.\n"
		"<bob@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n"
		"Hi. This is the qmail-send program at mx.example.net.\n"
		"<dave@example.org>:\n"
		"Sorry, no mailbox here by that name. (#5.1.1)\n"
		"Unknown user: erin@example.org\n";
	BdbReport *r = test_parse (msg);
	assert_int_equal (bdb_report_n_records (r), 0);
	assert_null (bdb_report_problem (r));
	bdb_report_free (r);
}

/* A Mailman post held for moderation is no failure. */
static void
test_mailman_held_gives_nothing (void **state)
{
	const char *msg =
		"From: announce-owner@lists.example.org\n"
		"To: alice@example.com\n"
		"Subject: Your message to Announce awaits moderator approval\n"
		"X-Mailman-Version: 2.1.39\n"
		"X-List-Administrivia: yes\n"
		"Content-Type: text/plain\n"
		"\n"
		"Your message to announce@lists.example.org with subject \"Hi\"\n"
		"is being held until the list moderator can review it.\n"
		"Either the message will get posted, rejected or you will be notified.\n"
		"It awaits moderator approval.\n";
	BdbReport *r = test_parse (msg);
	assert_int_equal (bdb_report_n_records (r), 0);
	bdb_report_free (r);
}

/* ---- one message per family ---------------------------------------------- */

typedef struct {
	const char *name;
	const char *extractor;
	const char *msg;
	const char *want;
} Case;

static const Case families[] = {
	{ "qmail", "qmail", DAEMON_HEADERS ("failure notice")
	  "\n"
	  "Hi. This is the qmail-send program at mx.example.net.\n"
	  "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	  "\n"
	  "<bob@example.org>:\n"
	  "192.0.2.25 does not like recipient.\n"
	  "Remote host said: 550 5.1.1 <bob@example.org>: User unknown\n"
	  "Giving up on 192.0.2.25.\n"
	  "\n"
	  "<carol@nohost.example>:\n"
	  "Sorry, I couldn't find any host named nohost.example. (#5.1.2)\n",
	  "bob@example.org failed 5.1.1 550;carol@nohost.example failed 5.1.2 -;" },
	{ "yahoo", "qmail", DAEMON_HEADERS ("Failure Notice")
	  "\n"
	  "Sorry, we were unable to deliver your message to the following address.\n"
	  "\n"
	  "<bob@example.org>:\n"
	  "554: delivery error: dd This user doesn't have a example.org account (bob@example.org) [0]\n",
	  "bob@example.org failed 5.0.0 554;" },
	{ "postfix", "postfix", DAEMON_HEADERS ("Undelivered Mail Returned to Sender")
	  "\n"
	  "This is the mail system at host mx.example.net.\n"
	  "\n"
	  "                   The mail system\n"
	  "\n"
	  "<bob@example.org> (expanded from <info@example.net>): host mx.example.org[192.0.2.25]\n"
	  "    said: 552 5.2.2 <bob@example.org>: Mailbox full (in reply to RCPT TO command)\n",
	  "bob@example.org failed 5.2.2 552;" },
	{ "opensmtpd", "postfix", DAEMON_HEADERS ("Delivery status notification: error")
	  "\n"
	  "    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n"
	  "    An error has occurred while attempting to deliver a message for\n"
	  "    the following list of recipients:\n"
	  "\n"
	  "bob@nohost.example: Domain does not exist\n"
	  "\n"
	  "    Below is a copy of the original message:\n",
	  "bob@nohost.example failed 5.0.0 -;" },
	{ "exim", "exim", DAEMON_HEADERS ("Mail delivery failed: returning message to sender")
	  "X-Failed-Recipients: bob@example.org, |/usr/bin/vacation\n"
	  "\n"
	  "This message was created automatically by mail delivery software.\n"
	  "\n"
	  "A message that you sent could not be delivered to one or more of its\n"
	  "recipients. This is a permanent error. The following address(es) failed:\n"
	  "\n"
	  "  bob@example.org\n"
	  "    SMTP error from remote mail server after RCPT TO:<bob@example.org>:\n"
	  "    host mx.example.org [192.0.2.25]: 550 5.1.1 No such user\n"
	  "  pipe to |/usr/bin/procmail\n"
	  "    generated by carol@example.net\n"
	  "    Child process of address_pipe transport returned 75\n",
	  "bob@example.org failed 5.1.1 550;carol@example.net failed 5.0.0 -;" },
	{ "exim-delay", "exim", DAEMON_HEADERS ("Warning: message 1sFzZz-0002Yy-0a delayed 24 hours")
	  "\n"
	  "This message was created automatically by mail delivery software.\n"
	  "A message that you sent has not yet been delivered to one or more of its\n"
	  "recipients after more than 24 hours on the queue on mx.example.net.\n"
	  "\n"
	  "The address to which the message has not yet been delivered is:\n"
	  "\n"
	  "  bob@example.org\n"
	  "    Delay reason: SMTP error from remote mail server after RCPT TO:<bob@example.org>:\n"
	  "    452 4.2.2 Mailbox full\n",
	  "bob@example.org delayed 4.2.2 452;" },
	{ "sendmail", "sendmail", DAEMON_HEADERS ("Returned mail: see transcript for details")
	  "\n"
	  "   ----- The following addresses had permanent fatal errors -----\n"
	  "<bob@example.org>\n"
	  "    (reason: 550 5.1.1 <bob@example.org>... User unknown)\n"
	  "<carol@example.org>\n"
	  "\n"
	  "   ----- Transcript of session follows -----\n"
	  "... while talking to mx.example.org.:\n"
	  ">>> RCPT To:<carol@example.org>\n"
	  "<<< 552 5.2.2 <carol@example.org>... Mailbox full\n"
	  "550 5.1.1 <bob@example.org>... User unknown\n"
	  "\n"
	  "   ----- Unsent message follows -----\n",
	  "bob@example.org failed 5.1.1 550;carol@example.org failed 5.2.2 552;" },
	{ "exchange-2003", "exchange",
	  "From: System Administrator <postmaster@example.org>\n"
	  "To: alice@example.com\n"
	  "Subject: Undeliverable: Hello\n"
	  "X-MS-Embedded-Report:\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Your message\n"
	  "\n"
	  "  To:      bob@example.org\n"
	  "  Subject: Hello\n"
	  "\n"
	  "did not reach the following recipient(s):\n"
	  "\n"
	  "carol@example.org on 6/10/2024 11:00 AM\n"
	  "    The e-mail account does not exist at the organization this message was sent to.\n"
	  "    <mx.example.org #5.1.1>\n",
	  "carol@example.org failed 5.1.1 -;" },
	{ "exchange-2010", "exchange",
	  "From: Microsoft Outlook <postmaster@example.org>\n"
	  "To: alice@example.com\n"
	  "Subject: Undeliverable: Hello\n"
	  "X-MS-Exchange-Message-Is-Ndr:\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Delivery has failed to these recipients or groups:\n"
	  "\n"
	  "Bob Smith (bob@example.org)\n"
	  "The e-mail address you entered couldn't be found.\n"
	  "\n"
	  "Diagnostic information for administrators:\n"
	  "\n"
	  "Generating server: EX01.example.org\n"
	  "\n"
	  "bob@example.org\n"
	  "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n"
	  "\n"
	  "Original message headers:\n"
	  "\n"
	  "To: Bob Smith <bob@example.org>, Dave <dave@example.org>\n",
	  "bob@example.org failed 5.1.1 550;" },
	{ "exchange-2010-people", "exchange",
	  "From: Microsoft Outlook <postmaster@example.org>\n"
	  "To: alice@example.com\n"
	  "Subject: Undeliverable: Hello\n"
	  "X-MS-Exchange-Message-Is-Ndr:\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Delivery has failed to these recipients or groups:\n"
	  "\n"
	  "Bob Smith (bob@example.org)\n"
	  "The e-mail address you entered couldn't be found.\n"
	  "\n"
	  "Carol (carol@example.org)\n"
	  "The recipient's mailbox is full and can't accept messages now.\n"
	  "\n"
	  "Original message headers:\n"
	  "\n"
	  "To: Bob Smith <bob@example.org>, Carol <carol@example.org>, dave@example.org\n",
	  "bob@example.org failed 5.0.0 -;carol@example.org failed 5.0.0 -;" },
	{ "domino", "notes",
	  "From: Postmaster@example.org\n"
	  "To: alice@example.com\n"
	  "Subject: DELIVERY FAILURE: User bob (bob@example.org) not listed in Domino Directory\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Your message\n"
	  "\n"
	  "  Subject: Hello\n"
	  "\n"
	  "was not delivered to:\n"
	  "\n"
	  "  bob@example.org\n"
	  "\n"
	  "because:\n"
	  "\n"
	  "  User bob (bob@example.org) not listed in Domino Directory\n",
	  "bob@example.org failed 5.0.0 -;" },
	{ "gmail", "gmail",
	  "From: Mail Delivery Subsystem <mailer-daemon@googlemail.example>\n"
	  "To: alice@example.com\n"
	  "Subject: Delivery Status Notification (Failure)\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Delivery to the following recipient failed permanently:\n"
	  "\n"
	  "     bob@example.org\n"
	  "\n"
	  "Technical details of permanent failure:\n"
	  "The error that the other server returned was:\n"
	  "550 5.1.1 <bob@example.org>: User unknown\n"
	  "\n"
	  "----- Original message -----\n"
	  "To: carol@example.org\n",
	  "bob@example.org failed 5.1.1 550;" },
	{ "gateway", "gateway",
	  "Return-Path: <>\n"
	  "From: Email Security Gateway <mailer-daemon@gw.example.org>\n"
	  "To: alice@example.com\n"
	  "Subject: Message blocked\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Your message to: bob@example.org\n"
	  "was blocked by our Spam Firewall.\n"
	  "\n"
	  "Reason: Score exceeded the block threshold (spam score 9.8)\n"
	  "\n"
	  "Questions? Write to help@example.org.\n",
	  "bob@example.org failed 5.0.0 -;" },
	{ "m-filter", "gateway",
	  "From: POSTMASTER <postmaster@example.org>\n"
	  "To: alice@example.com\n"
	  "Subject: failure notice\n"
	  "X-Mailer: m-FILTER\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "bob@example.org\n"
	  "\n"
	  "-------server message\n"
	  "550 unknown user <bob@example.org>\n"
	  "\n"
	  "-------SMTP command\n"
	  "DATA\n"
	  "\n"
	  "-------original message\n"
	  "To: carol@example.org\n",
	  "bob@example.org failed 5.0.0 550;" },
	{ "carrier", "carrier-jp",
	  "From: no-reply@mx.dion.ne.jp\n"
	  "To: alice@example.com\n"
	  "Subject: Mail\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Your mail sent on: Mon, 10 Jun 2024 09:00:00 +0900\n"
	  "     Could not be delivered to: <bob@ezweb.example>\n"
	  "     As their mailbox is full.\n",
	  "bob@ezweb.example failed 5.0.0 -;" },
	{ "mailman", "mailinglist",
	  "From: announce-owner@lists.example.org\n"
	  "To: alice@example.com\n"
	  "Subject: Your message to Announce was rejected\n"
	  "X-Mailman-Version: 2.1.39\n"
	  "X-List-Administrivia: yes\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Your message to announce@lists.example.org was rejected:\n"
	  "\n"
	  "You are not allowed to post to this mailing list.  Contact the owner at\n"
	  "announce-owner@lists.example.org.\n",
	  "announce@lists.example.org failed 5.0.0 -;" },
	{ "google-groups", "mailinglist",
	  "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
	  "To: alice@example.com\n"
	  "Subject: Delivery Status Notification (Failure)\n"
	  "X-Failed-Recipients: team@googlegroups.com\n"
	  "Content-Type: text/plain; charset=utf-8\n"
	  "\n"
	  "Hallo alice@example.com,\n"
	  "die Gruppe (team) existiert nicht.\n"
	  "Hilfe: https://groups.google.com/support/\n",
	  "team@googlegroups.com failed 5.0.0 -;" },
	{ "ses-sns", "amazonses",
	  "From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
	  "To: ops@example.com\n"
	  "Subject: AWS Notification Message\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "{\n"
	  "  \"Type\" : \"Notification\",\n"
	  "  \"Message\" : \"{\\\"notificationType\\\":\\\"Bounce\\\",\\\"bounce\\\":{\\\"bounceType\\\":\\\"Permanent\\\","
	  "\\\"bouncedRecipients\\\":[{\\\"emailAddress\\\":\\\"bob@example.org\\\",\\\"action\\\":\\\"failed\\\","
	  "\\\"status\\\":\\\"5.1.1\\\",\\\"diagnosticCode\\\":\\\"smtp; 550 5.1.1 user unknown\\\"}]},"
	  "\\\"mail\\\":{\\\"destination\\\":[\\\"bob@example.org\\\",\\\"carol@example.org\\\"]}}\"\n"
	  "}\n",
	  "bob@example.org failed 5.1.1 550;" },
	{ "ses-delivery", "amazonses",
	  "From: no-reply@sns.amazonaws.com\n"
	  "To: ops@example.com\n"
	  "Subject: AWS Notification Message\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "{\"notificationType\":\"Delivery\",\"mail\":{\"destination\":[\"bob@example.org\"]},"
	  "\"delivery\":{\"recipients\":[\"bob@example.org\"],\"smtpResponse\":\"250 2.6.0 Message received\"}}\n",
	  "bob@example.org delivered 2.6.0 250;" },
	{ "imail", "general",
	  "From: \"Postmaster\" <postmaster@example.org>\n"
	  "To: alice@example.com\n"
	  "Subject: Undeliverable Mail\n"
	  "X-Mailer: <IMail v12.5>\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Unknown user: bob@example.org\n"
	  "\n"
	  "Original message follows.\n"
	  "\n"
	  "To: carol@example.org\n",
	  "bob@example.org failed 5.0.0 -;" },
	{ "apache-james", "generic",
	  "From: MAILER-DAEMON@james.example.org\n"
	  "To: alice@example.com\n"
	  "Subject: [BOUNCE]\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "Hi. This is the James mail server at james.example.org.\n"
	  "I'm afraid I wasn't able to deliver your message.\n"
	  "\n"
	  "Error message below:\n"
	  "550 - Requested action not taken: no such user here\n"
	  "\n"
	  "Message details:\n"
	  "  Subject: Hello\n"
	  "  MAIL FROM: alice@example.com\n"
	  "  RCPT TO: bob@example.org\n"
	  "  From: Alice <alice@example.com>\n"
	  "  To: bob@example.org, carol@example.org\n",
	  "bob@example.org failed 5.0.0 550;" },
	{ "list-under-heading", "general",
	  "From: MAILER-DAEMON@gw.example.net\n"
	  "To: alice@example.com\n"
	  "Subject: Undeliverable message\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "This is the mail delivery agent at gw.example.net.\n"
	  "\n"
	  "I was unable to deliver your message to the following addresses:\n"
	  "\n"
	  "bob@example.org\n"
	  "\n"
	  "Reason: 550 bob@example.org Mailbox disabled\n",
	  "bob@example.org failed 5.0.0 550;" },
	{ "dragonfly", "general",
	  "From: MAILER-DAEMON <>\n"
	  "To: alice@example.com\n"
	  "Subject: Mail delivery failed\n"
	  "Content-Type: text/plain\n"
	  "\n"
	  "This is the DragonFly Mail Agent v0.13 at df.example.net.\n"
	  "\n"
	  "There was an error delivering your mail to <bob@example.org>.\n"
	  "\n"
	  "mx.example.org [192.0.2.25] did not like our RCPT TO:\n"
	  "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown\n"
	  "\n"
	  "Message headers follow.\n"
	  "\n"
	  "To: <carol@example.org>\n",
	  "bob@example.org failed 5.1.1 550;" },
};

static void
test_families (void **state)
{
	for (gsize i = 0; i < G_N_ELEMENTS (families); i++) {
		const Case *c = &families[i];
		g_autofree char *got = summary (c->msg);
		if (strcmp (got, c->want) != 0)
			fail_msg ("%s: got '%s', want '%s'", c->name, got, c->want);
		BdbReport *r = test_parse (c->msg);
		if (g_strcmp0 (extractor_of (r), c->extractor) != 0)
			fail_msg ("%s: read by '%s', want '%s'", c->name, extractor_of (r), c->extractor);
		assert_int_equal (bdb_report_kind (r), BDB_KIND_DSN);
		bdb_report_free (r);
	}
}

/* A success notice in a failure's layout never reads as a failure, and a
 * warning is a delay. */
static void
test_success_and_warning (void **state)
{
	assert_summary (DAEMON_HEADERS ("Successful Mail Delivery Report")
		"\n"
		"This is the mail system at host mx.example.net.\n"
		"\n"
		"Your message was successfully delivered to the destination(s)\n"
		"listed below.\n"
		"\n"
		"<bob@example.org>: delivery via local: delivered to mailbox\n",
		"bob@example.org delivered 2.0.0 -;");
	assert_summary (DAEMON_HEADERS ("Delayed Mail (still being retried)")
		"\n"
		"This is the mail system at host mx.example.net.\n"
		"\n"
		"####### THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #######\n"
		"\n"
		"<bob@example.org>: connect to mx.example.org[192.0.2.25]:25: Connection timed out\n",
		"bob@example.org delayed 4.0.0 -;");
}

/* ---- the broken-DSN fill-in ---------------------------------------------- */

#define BROKEN_DSN(final, text) \
	"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n" \
	"To: alice@example.com\n" \
	"Subject: Returned mail: see transcript for details\n" \
	"MIME-Version: 1.0\n" \
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n" \
	"\n" \
	"--B\n" \
	"Content-Type: text/plain\n" \
	"\n" \
	text \
	"--B\n" \
	"Content-Type: message/delivery-status\n" \
	"\n" \
	"Reporting-MTA: dns; mx.example.net\n" \
	"\n" \
	final \
	"Action: failed\n" \
	"Status: 5.1.2\n" \
	"\n" \
	"--B--\n"

static void
test_broken_dsn_fill_in (void **state)
{
	/* Final-Recipient unreadable: the notice names the address. */
	assert_summary (BROKEN_DSN ("Final-Recipient: RFC822; @mx.example.org\n",
		"   ----- The following addresses had permanent fatal errors -----\n"
		"<bob@example.org>\n"
		"    (reason: 550 Host unknown)\n"
		"\n"),
		"bob@example.org failed 5.1.2 550;");

	/* No recipient field at all. */
	assert_summary (BROKEN_DSN ("",
		"   ----- Transcript of session follows -----\n"
		"550 5.1.2 <bob@nohost.example>... Host unknown\n"
		"\n"),
		"bob@nohost.example failed 5.1.2 550;");

	/* Two addresses for one empty block: no guess. */
	BdbReport *r = test_parse (BROKEN_DSN ("Final-Recipient: RFC822; @mx.example.org\n",
		"   ----- The following addresses had permanent fatal errors -----\n"
		"<bob@example.org>\n"
		"<carol@example.org>\n"
		"\n"));
	assert_int_equal (bdb_report_n_records (r), 0);
	bdb_report_free (r);
}

/* A well-formed DSN is read from its status part only. */
static void
test_dsn_untouched (void **state)
{
	BdbReport *r = test_parse (BROKEN_DSN ("Final-Recipient: rfc822; dave@example.org\n",
		"<bob@example.org>: host said: 550 User unknown\n\n"));
	assert_int_equal (bdb_report_n_records (r), 1);
	assert_string_equal (bdb_record_get (bdb_report_get_record (r, 0), BDB_FIELD_RECIPIENT),
	                     "dave@example.org");
	assert_string_equal (extractor_of (r), "rfc3464");
	bdb_report_free (r);
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_find_address),
		cmocka_unit_test (test_find_nocase),
		cmocka_unit_test (test_notice_end),
		cmocka_unit_test (test_original_body_ignored),
		cmocka_unit_test (test_attached_original_ignored),
		cmocka_unit_test (test_our_addresses_ignored),
		cmocka_unit_test (test_quoting_person_gives_nothing),
		cmocka_unit_test (test_mailman_held_gives_nothing),
		cmocka_unit_test (test_families),
		cmocka_unit_test (test_success_and_warning),
		cmocka_unit_test (test_broken_dsn_fill_in),
		cmocka_unit_test (test_dsn_untouched),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
