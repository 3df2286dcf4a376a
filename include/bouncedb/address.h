/* bouncedb: mail addresses, in one place.
 *
 * Reports carry addresses in many spellings: with an address type
 * ("rfc822; a@b", "utf-8; ..."), in angle brackets, xtext-encoded (RFC 3461
 * "+2B"), with RFC 6533 \x{...} escapes, with display names.  Everything
 * that stores or compares an address goes through bdb_address_normalize().
 */
#ifndef BOUNCEDB_ADDRESS_H
#define BOUNCEDB_ADDRESS_H

#include <glib.h>
#include <bouncedb/version.h>

G_BEGIN_DECLS

typedef enum {
	BDB_ADDRESS_KEEP_LOCAL_CASE = 1 << 0, /* do not lowercase the local part */
	BDB_ADDRESS_UNICODE_DOMAIN  = 1 << 1, /* keep an IDN domain in UTF-8 */
	/* Input typed by a person or a list file: only an addr-spec, optionally
	 * in angle brackets; no type, display name or surrounding prose. */
	BDB_ADDRESS_STRICT          = 1 << 2,
} BdbAddressFlags;

/* Turn what a report or a user wrote into one canonical address: strips an
 * address type, display name, angle brackets and surrounding junk, decodes
 * xtext and \x{...} escapes (all of this unless BDB_ADDRESS_STRICT), lowercases the domain (and the local part
 * unless BDB_ADDRESS_KEEP_LOCAL_CASE), and converts an internationalised
 * domain to its ASCII (A-label) form unless BDB_ADDRESS_UNICODE_DOMAIN.
 * RFC 5321's lengths hold for the result, in octets: a local part of at
 * most 64, a domain of at most 253 with labels of at most 63 (measured as
 * A-labels), at most 254 in all.
 * Returns a newly allocated string (g_free()), or NULL with @error set to
 * BDB_ERROR_INVALID naming what is wrong. */
BDB_API char *bdb_address_normalize (const char *text, BdbAddressFlags flags,
                                     GError **error);

/* The address of one RFC 5322 mailbox as lists write them: "Name <addr>",
 * "\"Last, First\" <addr>", "addr (comment)", or a bare addr-spec; not a
 * group, not two addresses.  Normalised as by bdb_address_normalize()
 * with @flags (and BDB_ADDRESS_STRICT for the address inside).  A new
 * string (g_free()), or NULL with @error set to BDB_ERROR_INVALID.  This
 * one uses GMime (loaded on the first call). */
BDB_API char *bdb_address_from_mailbox (const char *text, BdbAddressFlags flags, GError **error);

/* The domain part of a normalised address (after the last '@'), or NULL.
 * Borrowed: points into @address. */
BDB_API const char *bdb_address_domain (const char *address);

/* Decode RFC 3461 xtext ("+2B" -> "+") in place where the escape is one
 * xtext requires; other '+' characters are left alone.  Returns @text. */
BDB_API char *bdb_xtext_decode_inplace (char *text);

G_END_DECLS

#endif
