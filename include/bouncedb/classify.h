/* bouncedb: what a record means for the recipient.
 *
 * Classification turns what a remote server said (action, status codes,
 * the diagnostic text) into a reason, whether the address is dead (hard),
 * what the store should do (disposition) and whose problem it is (scope).
 * The decision is made by rules that are data: a rules file compiled into
 * the library (src/lib/rules.txt), optionally preceded by a user's own
 * rules file.  The first rule that matches decides; the verdict names it,
 * so "why was this address suppressed?" always has an answer.
 */
#ifndef BOUNCEDB_CLASSIFY_H
#define BOUNCEDB_CLASSIFY_H

#include <glib.h>
#include <bouncedb/version.h>
#include <bouncedb/report.h>

G_BEGIN_DECLS

/* The reason vocabulary (doc/reasons.md explains each). */
typedef enum {
	BDB_REASON_UNDEFINED = 0,
	BDB_REASON_USERUNKNOWN,
	BDB_REASON_HOSTUNKNOWN,
	BDB_REASON_HASMOVED,
	BDB_REASON_MAILBOXFULL,
	BDB_REASON_SUSPEND,
	BDB_REASON_EXCEEDLIMIT,
	BDB_REASON_MESGTOOBIG,
	BDB_REASON_FILTERED,
	BDB_REASON_REJECTED,
	BDB_REASON_BLOCKED,
	BDB_REASON_SPAMDETECTED,
	BDB_REASON_VIRUSDETECTED,
	BDB_REASON_POLICYVIOLATION,
	BDB_REASON_AUTHFAILURE,
	BDB_REASON_BADREPUTATION,
	BDB_REASON_REQUIREPTR,
	BDB_REASON_NOTCOMPLIANTRFC,
	BDB_REASON_SECURITYERROR,
	BDB_REASON_NORELAYING,
	BDB_REASON_NOTACCEPT,
	BDB_REASON_NETWORKERROR,
	BDB_REASON_SYSTEMERROR,
	BDB_REASON_SYSTEMFULL,
	BDB_REASON_TOOMANYCONN,
	BDB_REASON_SPEEDING,
	BDB_REASON_EXPIRED,
	BDB_REASON_MAILERERROR,
	BDB_REASON_CONTENTERROR,
	BDB_REASON_SYNTAXERROR,
	BDB_REASON_ONHOLD,
	BDB_REASON_DELIVERED,
	BDB_REASON_FEEDBACK,
	BDB_REASON_VACATION,
	BDB_REASON_COUNT
} BdbReason;

/* What the store does with a record. */
typedef enum {
	BDB_DISPOSITION_SUPPRESS = 0, /* the address is dead: suppress now */
	BDB_DISPOSITION_SOFT,         /* counts toward the soft-bounce threshold */
	BDB_DISPOSITION_SENDER,       /* our own problem: never held against the recipient */
	BDB_DISPOSITION_COMPLAINT,    /* the recipient complained: suppress */
	BDB_DISPOSITION_SUCCESS,      /* delivered: clears the soft counter */
	BDB_DISPOSITION_DELAY,        /* still being retried: recorded only */
	BDB_DISPOSITION_IGNORE,       /* auto-replies and the like */
	BDB_DISPOSITION_COUNT
} BdbDisposition;

/* The words `bouncedb serve` puts in every refusal it writes (lowercase).
 * A notice that quotes them (Postfix's bounce for a recipient that serve
 * refused) is our own answer coming back, not news about the address:
 * its verdict keeps the reason, with BDB_DISPOSITION_IGNORE. */
#define BDB_REFUSAL_MARKER "[bouncedb]"

/* Whose problem it is. */
typedef enum {
	BDB_SCOPE_RECIPIENT = 0,
	BDB_SCOPE_DOMAIN,
	BDB_SCOPE_SENDER,
	BDB_SCOPE_COUNT
} BdbScope;

/* Names as used in JSON, rules files and the database; static strings. */
BDB_API const char *bdb_reason_name (BdbReason reason);
BDB_API const char *bdb_disposition_name (BdbDisposition disposition);
BDB_API const char *bdb_scope_name (BdbScope scope);
/* Look a name up; FALSE when unknown. */
BDB_API gboolean bdb_reason_from_name (const char *name, BdbReason *reason);
BDB_API gboolean bdb_disposition_from_name (const char *name, BdbDisposition *disposition);
BDB_API gboolean bdb_scope_from_name (const char *name, BdbScope *scope);

typedef struct _BdbRules BdbRules;
typedef struct _BdbRule BdbRule;

/* The built-in rules, compiled once.  Free with bdb_rules_free(). */
BDB_API BdbRules *bdb_rules_new (GError **error);
/* Read a user rules file; its rules are consulted before every rule added
 * earlier, so they can override the built-in ones.  A syntax error names
 * the file and line (BDB_ERROR_INVALID) and adds nothing. */
BDB_API gboolean bdb_rules_add_file (BdbRules *rules, const char *path, GError **error);
/* The same from text in memory; @origin names it in errors and verdicts. */
BDB_API gboolean bdb_rules_add_text (BdbRules *rules, const char *origin,
                                     const char *text, gssize len, GError **error);
BDB_API void bdb_rules_free (BdbRules *rules);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbRules, bdb_rules_free)

/* The rule's id ("gmail-dmarc"), where it was written ("builtin:57"), and
 * its text as written.  Borrowed: valid while the rules live. */
BDB_API const char *bdb_rule_id (const BdbRule *rule);
BDB_API const char *bdb_rule_origin (const BdbRule *rule);
BDB_API const char *bdb_rule_text (const BdbRule *rule);

typedef struct {
	BdbReason reason;
	gboolean hard;               /* suppress this address now */
	BdbDisposition disposition;
	BdbScope scope;
	const BdbRule *rule;         /* the rule that decided; borrowed from the rules */
	BdbField evidence;           /* the field that rule read */
} BdbVerdict;

/* Classify @record.  Never fails: a record nothing matches gets
 * "undefined" from the fallback rule.  Thread-safe for concurrent calls
 * on the same rules. */
BDB_API void bdb_classify (const BdbRules *rules, const BdbRecord *record,
                           BdbVerdict *verdict);

/* The evidence behind @verdict (from bdb_classify() of the same
 * @record): for each condition of the rule that decided, what of the
 * record made it hold, such as 'status=5.1.1; text~"user unknown";
 * !command=DATA' (the words that matched, as the rule lists them).
 * NULL when no rule decided.  Free with g_free(). */
BDB_API char *bdb_classify_evidence (const BdbRules *rules, const BdbRecord *record,
                                     const BdbVerdict *verdict);

/* Classify what a report would say, without a report: for imports of
 * other systems' suppression lists.  Any argument may be NULL. */
BDB_API void bdb_classify_fields (const BdbRules *rules, BdbKind kind, const char *action,
                                  const char *status, const char *reply_code,
                                  const char *diagnostic, BdbVerdict *verdict);

G_END_DECLS

#endif
