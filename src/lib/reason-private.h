/* What a reason means for the store (reason.c).  Not installed. */
#ifndef BOUNCEDB_REASON_PRIVATE_H
#define BOUNCEDB_REASON_PRIVATE_H

#include <bouncedb/classify.h>

typedef struct {
	const char *name;
	BdbDisposition disposition;  /* for a permanent failure */
	BdbScope scope;
	gboolean dead;               /* the address itself is dead when permanent */
} BdbReasonInfo;

/* The entry of @reason (of "undefined" for a value out of range). */
const BdbReasonInfo *bdb_reason_info (BdbReason reason);

#endif
