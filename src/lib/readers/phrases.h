/* The vocabulary of failure notices, as data: the phrases the general
 * reader looks for, each with its kind and the family of wording it
 * stands for.  Not installed.
 *
 * The phrases are lower case (simple case folding, as bdb_phrases_fold()
 * makes the text) and are found anywhere in a line; what a phrase means
 * depends on where it stands (general.c decides). */
#ifndef BOUNCEDB_PHRASES_H
#define BOUNCEDB_PHRASES_H

#include "matcher.h"

typedef enum {
	/* Says that delivery to an address failed or why: "user unknown",
	 * "mailbox full", "could not be delivered". */
	BDB_PHRASE_FAILURE,
	/* A heading over a list of failed addresses: "the following
	 * recipients", "folgende Empfänger". */
	BDB_PHRASE_LISTING,
	/* Names the address the message was for: "originally addressed to",
	 * "intended recipient", "Final-Recipient:". */
	BDB_PHRASE_ORIGINAL,
	/* Introduces the returned message, at the start of a line:
	 * "original message follows", "Ursprüngliche Nachricht". */
	BDB_PHRASE_COPY,
	/* An address to write to rather than a failed one: "contact",
	 * "please reply to". */
	BDB_PHRASE_CONTACT,
	/* Names the sender of a message, just before its address: "from",
	 * "sender", "expanded from", "Absender". */
	BDB_PHRASE_SENDER,
	/* The SMTP command naming a recipient in a transcript: "rcpt to:". */
	BDB_PHRASE_RCPT,
	/* Labels a message identifier, whose "local@host" is no address. */
	BDB_PHRASE_ID,
	/* Says the delivery is only delayed or still being tried. */
	BDB_PHRASE_DELAY,
} BdbPhraseKind;

typedef struct {
	const char *text;     /* lower case, UTF-8 */
	BdbPhraseKind kind;
	const char *family;   /* the family of wording, for explain: "no such user" */
	const char *lang;     /* ISO 639-1 code of its language */
} BdbPhrase;

/* The phrase of index @i (as BdbMatch.phrase gives it). */
const BdbPhrase *bdb_phrase (guint i);

/* The matcher of every phrase, built on first use and kept for the
 * process's life; safe to share between threads. */
const BdbMatcher *bdb_phrases_matcher (void);

/* A copy of [@text, @text + @len) in lower case with every byte at the
 * same offset: ASCII letters lowered, and a UTF-8 character whose lower
 * case takes as many bytes (Latin, Greek, Cyrillic) replaced by it; other
 * bytes as they are.  NUL-terminated; g_free() it. */
char *bdb_phrases_fold (const char *text, gsize len);

/* The number of phrases (for tests). */
guint bdb_phrases_count (void);

#endif
