/* The compiled form of classification rules.  Not installed. */
#ifndef BOUNCEDB_RULES_PRIVATE_H
#define BOUNCEDB_RULES_PRIVATE_H

#include <bouncedb/classify.h>

/* What a record offers to the rules, computed once per record. */
typedef struct {
	BdbKind kind;
	const char *action;      /* lowercased, "" when absent */
	int status[3];           /* class, subject, detail; -1 when absent */
	int klass;               /* 2, 4, 5 from status, reply code or action; 0 unknown */
	const char *reply;       /* "550" or "" */
	const char *command;     /* "RCPT" or "" */
	const char *feedback;    /* feedback type, lowercased, or "" */
	const char *dtype;       /* diagnostic type ("x-unix"), lowercased, or "" */
	const char *text;        /* diagnostic, lowercased */
	const char *mta;         /* remote and reporting MTA, lowercased */
	const char *rcpt;        /* the recipient's address, lowercased, or "" */
} BdbRuleInput;

/* The first rule that matches @in, or NULL. */
const BdbRule *bdb_rules_match (const BdbRules *rules, const BdbRuleInput *in);
BdbReason bdb_rule_reason (const BdbRule *rule);
/* What of @in made @rule hold, condition by condition ("status=5.1.1;
 * text~\"user unknown\"; !command=DATA"); g_free() it. */
char *bdb_rule_describe (const BdbRules *rules, const BdbRule *rule, const BdbRuleInput *in);
BdbField bdb_rule_evidence (const BdbRule *rule);
/* What every match of a regular expression contains (rules.c); for tests. */
char *bdb_rules_regex_needs (const char *pattern);

#endif
