/* bouncedb: bounce reports to a trustworthy suppression list.
 *
 * The umbrella header.  Data flows one way through the modules:
 *   report.h    bytes -> message -> per-recipient records
 *   classify.h  record -> reason, hard/soft, disposition, scope
 *   policy.h    classified report -> changes to the database
 *   store.h     the LMDB database: suppressions, counters, history
 *   mailbox.h   reading Maildirs and mboxes, quarantine, safe delivery
 *   sign.h      signed envelope senders against forged bounces
 */
#ifndef BOUNCEDB_H
#define BOUNCEDB_H

#include <bouncedb/version.h>
#include <bouncedb/error.h>
#include <bouncedb/address.h>
#include <bouncedb/report.h>
#include <bouncedb/classify.h>
#include <bouncedb/store.h>
#include <bouncedb/policy.h>
#include <bouncedb/mailbox.h>
#include <bouncedb/sign.h>

#endif
