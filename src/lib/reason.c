/* Reasons, dispositions and scopes: their names, and what each reason
 * means for the store.  Apart from classify.c so that the query commands,
 * which only print and read names, do not bring in the parser. */
#include "reason-private.h"

static const BdbReasonInfo reasons[BDB_REASON_COUNT] = {
	[BDB_REASON_UNDEFINED]       = { "undefined", BDB_DISPOSITION_SOFT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_USERUNKNOWN]     = { "userunknown", BDB_DISPOSITION_SUPPRESS, BDB_SCOPE_RECIPIENT, TRUE },
	[BDB_REASON_HOSTUNKNOWN]     = { "hostunknown", BDB_DISPOSITION_SUPPRESS, BDB_SCOPE_DOMAIN, TRUE },
	[BDB_REASON_HASMOVED]        = { "hasmoved", BDB_DISPOSITION_SUPPRESS, BDB_SCOPE_RECIPIENT, TRUE },
	[BDB_REASON_MAILBOXFULL]     = { "mailboxfull", BDB_DISPOSITION_SOFT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_SUSPEND]         = { "suspend", BDB_DISPOSITION_SOFT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_EXCEEDLIMIT]     = { "exceedlimit", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_MESGTOOBIG]      = { "mesgtoobig", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_FILTERED]        = { "filtered", BDB_DISPOSITION_SOFT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_REJECTED]        = { "rejected", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_BLOCKED]         = { "blocked", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_SPAMDETECTED]    = { "spamdetected", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_VIRUSDETECTED]   = { "virusdetected", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_POLICYVIOLATION] = { "policyviolation", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_AUTHFAILURE]     = { "authfailure", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_BADREPUTATION]   = { "badreputation", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_REQUIREPTR]      = { "requireptr", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_NOTCOMPLIANTRFC] = { "notcompliantrfc", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_SECURITYERROR]   = { "securityerror", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_NORELAYING]      = { "norelaying", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_NOTACCEPT]       = { "notaccept", BDB_DISPOSITION_SUPPRESS, BDB_SCOPE_DOMAIN, TRUE },
	[BDB_REASON_NETWORKERROR]    = { "networkerror", BDB_DISPOSITION_SOFT, BDB_SCOPE_DOMAIN, FALSE },
	[BDB_REASON_SYSTEMERROR]     = { "systemerror", BDB_DISPOSITION_SOFT, BDB_SCOPE_DOMAIN, FALSE },
	[BDB_REASON_SYSTEMFULL]      = { "systemfull", BDB_DISPOSITION_SOFT, BDB_SCOPE_DOMAIN, FALSE },
	[BDB_REASON_TOOMANYCONN]     = { "toomanyconn", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_SPEEDING]        = { "speeding", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_EXPIRED]         = { "expired", BDB_DISPOSITION_SOFT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_MAILERERROR]     = { "mailererror", BDB_DISPOSITION_SOFT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_CONTENTERROR]    = { "contenterror", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_SYNTAXERROR]     = { "syntaxerror", BDB_DISPOSITION_SENDER, BDB_SCOPE_SENDER, FALSE },
	[BDB_REASON_ONHOLD]          = { "onhold", BDB_DISPOSITION_SOFT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_DELIVERED]       = { "delivered", BDB_DISPOSITION_SUCCESS, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_FEEDBACK]        = { "feedback", BDB_DISPOSITION_COMPLAINT, BDB_SCOPE_RECIPIENT, FALSE },
	[BDB_REASON_VACATION]        = { "vacation", BDB_DISPOSITION_IGNORE, BDB_SCOPE_RECIPIENT, FALSE },
};

static const char *const disposition_names[BDB_DISPOSITION_COUNT] = {
	[BDB_DISPOSITION_SUPPRESS] = "suppress",
	[BDB_DISPOSITION_SOFT] = "soft",
	[BDB_DISPOSITION_SENDER] = "sender",
	[BDB_DISPOSITION_COMPLAINT] = "complaint",
	[BDB_DISPOSITION_SUCCESS] = "success",
	[BDB_DISPOSITION_DELAY] = "delay",
	[BDB_DISPOSITION_IGNORE] = "ignore",
};

static const char *const scope_names[BDB_SCOPE_COUNT] = {
	[BDB_SCOPE_RECIPIENT] = "recipient",
	[BDB_SCOPE_DOMAIN] = "domain",
	[BDB_SCOPE_SENDER] = "sender",
};

const BdbReasonInfo *
bdb_reason_info (BdbReason reason)
{
	return &reasons[(guint) reason < BDB_REASON_COUNT ? reason : BDB_REASON_UNDEFINED];
}

const char *
bdb_reason_name (BdbReason reason)
{
	return (guint) reason < BDB_REASON_COUNT ? reasons[reason].name : "undefined";
}

const char *
bdb_disposition_name (BdbDisposition d)
{
	return (guint) d < BDB_DISPOSITION_COUNT ? disposition_names[d] : "soft";
}

const char *
bdb_scope_name (BdbScope s)
{
	return (guint) s < BDB_SCOPE_COUNT ? scope_names[s] : "recipient";
}

gboolean
bdb_reason_from_name (const char *name, BdbReason *reason)
{
	for (guint i = 0; i < BDB_REASON_COUNT; i++) {
		if (g_ascii_strcasecmp (name, reasons[i].name) == 0) {
			*reason = (BdbReason) i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
bdb_disposition_from_name (const char *name, BdbDisposition *d)
{
	for (guint i = 0; i < BDB_DISPOSITION_COUNT; i++) {
		if (g_ascii_strcasecmp (name, disposition_names[i]) == 0) {
			*d = (BdbDisposition) i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
bdb_scope_from_name (const char *name, BdbScope *s)
{
	for (guint i = 0; i < BDB_SCOPE_COUNT; i++) {
		if (g_ascii_strcasecmp (name, scope_names[i]) == 0) {
			*s = (BdbScope) i;
			return TRUE;
		}
	}
	return FALSE;
}
