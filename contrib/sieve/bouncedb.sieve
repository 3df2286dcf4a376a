# bouncedb.sieve: hand bounces to `bouncedb ingest` from Dovecot (Pigeonhole).
#
# Install it as a sieve_before script (90-sieve-extprograms.conf), e.g.
# /etc/dovecot/sieve/bouncedb.sieve, and compile it once with
#     sievec /etc/dovecot/sieve/bouncedb.sieve
# The program "bouncedb-ingest" is the wrapper script installed in
# sieve_pipe_bin_dir.
#
# Only mail for the bounce address is considered: "bounces@...", with any
# +detail (bounces+TOKEN@..., VERP or `bouncedb sign`).  Change "bounces" to
# the local part of your list manager's envelope sender.  Of that mail, only
# what looks like a bounce is piped; a person writing to the bounce address
# stays in the mailbox.
#
# What happens to a bounce:
#   - ingest exits 0 (stored, or kept in its quarantine Maildir): `pipe`
#     cancels the implicit keep; the bounce is not stored in the mailbox.
#   - ingest fails (exit 75: database busy, disk full, permissions) or
#     times out: the `pipe` action fails, the script fails, and Dovecot
#     performs the implicit keep: the bounce lands in INBOX, where the
#     sweep timer (bouncedb sweep) stores it later.  Nothing is lost and
#     nothing is counted twice: bouncedb remembers the messages it stored.

require ["vnd.dovecot.pipe", "envelope", "subaddress"];

if allof (
	envelope :user :is "to" "bounces",
	anyof (
		# DSNs, MDNs and auto-replies come from the null reverse-path
		# (RFC 5321, section 4.5.5).
		envelope :is "from" "",
		# Some MTAs send bounces from a MAILER-DAEMON address.
		address :localpart :is "from" ["mailer-daemon", "postmaster"],
		# RFC 3464 DSNs and RFC 5965 ARF complaints.
		header :contains "content-type" "multipart/report"))
{
	pipe "bouncedb-ingest";
	stop;
}
