/* bouncedb serve: answer Postfix and applications from one long-running
 * process.
 *
 *   bouncedb serve [--socketmap ADDR] [--policy ADDR] [--http ADDR]
 *
 * One GLib main loop, one thread.  Three listeners, each a UNIX socket by
 * default (TCP only when an address says so, 127.0.0.1 when it names no
 * host), or the sockets systemd passes (LISTEN_FDS, named socketmap,
 * policy, http).  Socketmap and policy connections are read here, without
 * blocking, and answered by serve-proto.c; HTTP connections are handed to
 * libsoup, whose handler asks serve-http.c.  Limits: max_connections over
 * all three (a connection beyond it is closed at once), idle_timeout on
 * every socket (GSocket's timeout), max_line_length per request line,
 * max_request_size per HTTP body (a chunked body is refused: 411).
 *
 * A timer checks ten times a second whether `prune --compact` waits for
 * the database, and lets the environment go when it does (serve-answer.c).
 * SIGHUP lets it go at once (reopened on the next request); SIGTERM and
 * SIGINT stop the server and remove its UNIX sockets.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <libsoup/soup.h>
#include "serve.h"

static const char *const protocol_names[SERVE_N_PROTOCOLS] = {
	[SERVE_SOCKETMAP] = "socketmap", [SERVE_POLICY] = "policy", [SERVE_HTTP] = "http",
};

typedef struct {
	Serve sv;
	ServeConfig config;
	GMainLoop *loop;
	GSocketService *service;
	SoupServer *soup;
	GPtrArray *unix_paths;   /* sockets we made: removed at exit */
	GHashTable *http_sockets;  /* HTTP connections' sockets, counted */
	GObject *tags[SERVE_N_PROTOCOLS];  /* the listeners' source objects */
	Cli *cli;
} Server;

/* One socketmap or policy connection. */
typedef struct {
	Server *server;
	ServeProtocol proto;
	GSocketConnection *conn;
	GSocket *sock;
	GSource *source;
	GByteArray *in;
	GString *out;
	gsize sent;              /* of out */
	gboolean closing;        /* after out is sent */
	ServePolicy policy;
} Conn;

/* ---- addresses ---------------------------------------------------------- */

/* "unix:PATH", "inet:HOST:PORT", "HOST:PORT", "PORT" or "none".  NULL
 * with *@off for none. */
static GSocketAddress *
parse_address (const char *text, gboolean *off, char **unix_path, GError **error)
{
	*off = FALSE;
	*unix_path = NULL;
	if (!text || !*text || strcmp (text, "none") == 0) {
		*off = TRUE;
		return NULL;
	}
	if (g_str_has_prefix (text, "unix:")) {
		if (text[5] != '/') {
			g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			             "'%s': unix: takes an absolute path", text);
			return NULL;
		}
		*unix_path = g_strdup (text + 5);
		return g_unix_socket_address_new (text + 5);
	}
	const char *hp = g_str_has_prefix (text, "inet:") ? text + 5 : text;
	const char *colon = strrchr (hp, ':');
	g_autofree char *host = colon ? g_strndup (hp, (gsize) (colon - hp)) : g_strdup ("127.0.0.1");
	const char *port = colon ? colon + 1 : hp;
	if (!*host)
		g_free (g_steal_pointer (&host)), host = g_strdup ("127.0.0.1");
	if (host[0] == '[' && host[strlen (host) - 1] == ']') {
		memmove (host, host + 1, strlen (host));
		host[strlen (host) - 1] = '\0';
	}
	char *end;
	guint64 p = g_ascii_strtoull (port, &end, 10);
	GSocketAddress *a = NULL;
	if (*port && !*end && p > 0 && p < 65536)
		a = g_inet_socket_address_new_from_string (host, (guint) p);
	if (!a)
		g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		             "'%s': expected unix:PATH, inet:HOST:PORT, HOST:PORT, PORT or none", text);
	return a;
}

/* ---- socketmap and policy connections ------------------------------------ */

static void conn_watch (Conn *c, GIOCondition cond);

static void
conn_free (Conn *c)
{
	if (c->source) {
		g_source_destroy (c->source);
		g_source_unref (c->source);
	}
	g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
	g_object_unref (c->conn);
	g_byte_array_unref (c->in);
	g_string_free (c->out, TRUE);
	serve_policy_clear (&c->policy);
	c->server->sv.connections--;
	g_free (c);
}

/* Send what is pending.  FALSE when the connection is done with. */
static gboolean
conn_flush (Conn *c)
{
	while (c->sent < c->out->len) {
		GError *error = NULL;
		gssize n = g_socket_send (c->sock, c->out->str + c->sent, c->out->len - c->sent, NULL, &error);
		if (n < 0) {
			gboolean again = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
			g_error_free (error);
			return again;
		}
		c->sent += (gsize) n;
	}
	g_string_truncate (c->out, 0);
	c->sent = 0;
	return !c->closing;
}

static gboolean
conn_ready (GSocket *sock, GIOCondition cond, gpointer data)
{
	Conn *c = data;
	Serve *sv = &c->server->sv;
	/* Declared before the first goto: done: frees it. */
	g_autofree char *problem = NULL;
	if (c->sent < c->out->len || (cond & G_IO_OUT)) {
		if (!conn_flush (c))
			goto done;
		if (c->out->len) {
			conn_watch (c, G_IO_OUT);
			return G_SOURCE_REMOVE;
		}
	}
	char buf[16384];
	GError *error = NULL;
	gssize n = g_socket_receive (sock, buf, sizeof buf, NULL, &error);
	if (n < 0) {
		gboolean again = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
		g_error_free (error);  /* G_IO_ERROR_TIMED_OUT: idle_timeout */
		if (again) {
			conn_watch (c, G_IO_IN);
			return G_SOURCE_REMOVE;
		}
		goto done;
	}
	if (n == 0)
		goto done;
	g_byte_array_append (c->in, (const guint8 *) buf, (guint) n);
	gboolean ok = c->proto == SERVE_SOCKETMAP
		? serve_socketmap_input (sv, c->in, c->out, &problem)
		: serve_policy_input (sv, &c->policy, c->in, c->out, &problem);
	if (!ok) {
		g_message ("%s connection: %s; closing it", protocol_names[c->proto], problem);
		c->closing = TRUE;
	}
	if (!conn_flush (c))
		goto done;
	if (!c->out->len && (cond & G_IO_IN))
		return G_SOURCE_CONTINUE;  /* the usual case: keep waiting to read */
	/* Pending output: wait until it can go, reading nothing meanwhile. */
	conn_watch (c, c->out->len ? G_IO_OUT : G_IO_IN);
	return G_SOURCE_REMOVE;
done:
	g_clear_pointer (&c->source, g_source_unref);
	conn_free (c);
	return G_SOURCE_REMOVE;
}

static void
conn_watch (Conn *c, GIOCondition cond)
{
	if (c->source) {
		g_source_destroy (c->source);
		g_source_unref (c->source);
	}
	c->source = g_socket_create_source (c->sock, cond | G_IO_HUP | G_IO_ERR, NULL);
	g_source_set_callback (c->source, (GSourceFunc) (GCallback) conn_ready, c, NULL);
	g_source_attach (c->source, NULL);
}

/* ---- HTTP (libsoup) ------------------------------------------------------ */

static void
http_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer data)
{
	Server *server = data;
	GUri *uri = soup_server_message_get_uri (msg);
	SoupMessageBody *body = soup_server_message_get_request_body (msg);
	g_autoptr (GBytes) bytes = body ? soup_message_body_flatten (body) : NULL;
	gsize len = 0;
	const char *data_ = bytes ? g_bytes_get_data (bytes, &len) : NULL;
	ServeHttpReply r = { 0 };
	r.body = g_string_new (NULL);
	serve_http_answer (&server->sv, soup_server_message_get_method (msg), g_uri_get_path (uri),
	                   g_uri_get_query (uri), data_, len, &r);
	if (r.allow)
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", r.allow);
	if (r.status == 503)
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After", "1");
	soup_server_message_set_status (msg, r.status, NULL);
	gsize n = r.body->len;
	soup_server_message_set_response (msg, r.content_type, SOUP_MEMORY_TAKE,
	                                   g_string_free (r.body, FALSE), n);
}

/* Before the body is read: refuse what is too large, and bodies without a
 * length (chunked), which could be any size. */
static void
http_early (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer data)
{
	Server *server = data;
	SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
	SoupEncoding enc = soup_message_headers_get_encoding (h);
	const char *error = NULL;
	guint status = 0;
	if (enc == SOUP_ENCODING_CHUNKED || enc == SOUP_ENCODING_EOF) {
		status = 411;
		error = "{\"error\":\"give a Content-Length\"}\n";
	} else if (enc == SOUP_ENCODING_CONTENT_LENGTH &&
	           (guint64) soup_message_headers_get_content_length (h) > server->config.max_request_size) {
		status = 413;
		error = "{\"error\":\"request larger than max_request_size\"}\n";
	}
	if (status) {
		server->sv.protocol_errors[SERVE_HTTP]++;
		soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
		soup_server_message_set_status (msg, status, NULL);
		soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, error, strlen (error));
	}
}

/* libsoup accepts HTTP connections itself (it keeps them alive; one handed
 * over with soup_server_accept_iostream() is closed after one request):
 * a connection is counted when its first request starts, and uncounted
 * once its socket is closed (watch_compaction's timer looks).
 *
 * libsoup 3.2 reads the end of a connection that the client closed between
 * two requests, and then leaves it open (CLOSE-WAIT) for good.  So the
 * timer also closes a socket whose client has gone for a second: GSocket
 * refuses any I/O on it afterwards, and libsoup drops the connection at
 * its next try. */
static gboolean
client_gone (GSocket *sock)
{
	char c;
	return recv (g_socket_get_fd (sock), &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static void
http_forget_closed (Server *server)
{
	GHashTableIter it;
	gpointer sock, since;
	gint64 now = g_get_monotonic_time ();
	g_hash_table_iter_init (&it, server->http_sockets);
	while (g_hash_table_iter_next (&it, &sock, &since)) {
		gint64 *gone = since;  /* when its client was seen gone; 0: not yet */
		if (!g_socket_is_closed (sock) && !*gone && client_gone (sock)) {
			*gone = now;
			server->sv.connections--;  /* counts no more */
		}
		if (*gone && !g_socket_is_closed (sock) && now - *gone >= G_USEC_PER_SEC)
			g_socket_close (sock, NULL);
		if (g_socket_is_closed (sock)) {
			if (!*gone)
				server->sv.connections--;
			g_hash_table_iter_remove (&it);
		}
	}
}

static void
http_request_started (SoupServer *soup, SoupServerMessage *msg, gpointer data)
{
	Server *server = data;
	Serve *sv = &server->sv;
	GSocket *sock = soup_server_message_get_socket (msg);
	if (!sock || g_hash_table_contains (server->http_sockets, sock))
		return;
	http_forget_closed (server);
	if (sv->connections >= server->config.max_connections) {
		sv->refused++;
		g_socket_shutdown (sock, TRUE, TRUE, NULL);
		return;
	}
	sv->connections++;
	sv->accepted[SERVE_HTTP]++;
	g_socket_set_timeout (sock, server->config.idle_timeout);
	g_hash_table_insert (server->http_sockets, g_object_ref (sock), g_new0 (gint64, 1));
}

/* ---- accepting ----------------------------------------------------------- */

static gboolean
incoming (GSocketService *service, GSocketConnection *conn, GObject *tag, gpointer data)
{
	Server *server = data;
	Serve *sv = &server->sv;
	ServeProtocol proto = SERVE_SOCKETMAP;
	for (int p = 0; p < SERVE_N_PROTOCOLS; p++)
		if (tag == server->tags[p])
			proto = (ServeProtocol) p;
	if (sv->connections >= server->config.max_connections) {
		sv->refused++;
		g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
		return TRUE;
	}
	sv->connections++;
	sv->accepted[proto]++;
	GSocket *sock = g_socket_connection_get_socket (conn);
	g_socket_set_timeout (sock, server->config.idle_timeout);
	g_socket_set_blocking (sock, FALSE);
	Conn *c = g_new0 (Conn, 1);
	c->server = server;
	c->proto = proto;
	c->conn = g_object_ref (conn);
	c->sock = sock;
	c->in = g_byte_array_new ();
	c->out = g_string_new (NULL);
	conn_watch (c, G_IO_IN);
	return TRUE;
}

/* systemd's socket activation: the file descriptor named @name, or -1. */
static int
activated_fd (const char *name)
{
	const char *pid = g_getenv ("LISTEN_PID"), *fds = g_getenv ("LISTEN_FDS");
	const char *names = g_getenv ("LISTEN_FDNAMES");
	if (!pid || !fds || !names || g_ascii_strtoll (pid, NULL, 10) != (gint64) getpid ())
		return -1;
	gint64 n = g_ascii_strtoll (fds, NULL, 10);
	g_auto (GStrv) list = g_strsplit (names, ":", -1);
	for (gint64 i = 0; i < n && list[i]; i++)
		if (strcmp (list[i], name) == 0)
			return 3 + (int) i;
	return -1;
}

/* Listen on @sock: HTTP through libsoup, the others through our service. */
static gboolean
add_listener (Server *server, ServeProtocol proto, GSocket *sock, GError **error)
{
	if (proto == SERVE_HTTP)
		return soup_server_listen_socket (server->soup, sock, 0, error);
	return g_socket_listener_add_socket (G_SOCKET_LISTENER (server->service), sock,
	                                     server->tags[proto], error);
}

/* A listening socket on @addr; a UNIX one with the mode and group of
 * [serve], and its path noted for removal at exit. */
static GSocket *
bound_socket (Server *server, GSocketAddress *addr, const char *path, GError **error)
{
	g_autoptr (GSocket) sock = g_socket_new (g_socket_address_get_family (addr), G_SOCKET_TYPE_STREAM,
	                                         G_SOCKET_PROTOCOL_DEFAULT, error);
	if (!sock)
		return NULL;
	if (path) {
		struct stat st;
		g_autofree char *dir = g_path_get_dirname (path);
		g_mkdir_with_parents (dir, 0755);
		/* A socket left by a server that died is in the way; anything
		 * else at that path is not ours to remove. */
		if (lstat (path, &st) == 0 && S_ISSOCK (st.st_mode))
			unlink (path);
	}
	/* No window in which the socket is more open than configured. */
	mode_t old = umask (0177);
	gboolean ok = g_socket_bind (sock, addr, TRUE, error);
	umask (old);
	g_socket_set_listen_backlog (sock, 128);
	if (!ok || !g_socket_listen (sock, error))
		return NULL;
	if (!path)
		return g_steal_pointer (&sock);
	g_ptr_array_add (server->unix_paths, g_strdup (path));
	GKeyFile *kf = server->cli->config;
	guint mode = 0660;
	g_autofree char *m = cli_config_string (kf, "serve", "socket_mode", NULL);
	if (m)
		mode = (guint) g_ascii_strtoull (m, NULL, 8) & 0777;
	g_autofree char *group = g_key_file_get_string (kf, "serve", "socket_group", NULL);
	if (group && *group) {
		struct group *gr = getgrnam (group);
		if (!gr || chown (path, (uid_t) -1, gr->gr_gid) != 0) {
			g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			             "[serve] socket_group '%s': %s", group,
			             gr ? g_strerror (errno) : "no such group");
			return NULL;
		}
	}
	if (chmod (path, mode) != 0) {
		g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "chmod %s: %s", path,
		             g_strerror (errno));
		return NULL;
	}
	return g_steal_pointer (&sock);
}

static gboolean
listen_on (Server *server, ServeProtocol proto, const char *text, GError **error)
{
	server->tags[proto] = g_object_new (G_TYPE_OBJECT, NULL);
	int fd = activated_fd (protocol_names[proto]);
	if (fd >= 0) {
		g_autoptr (GSocket) sock = g_socket_new_from_fd (fd, error);
		if (!sock || !add_listener (server, proto, sock, error))
			return FALSE;
		g_message ("%s: listening on the socket systemd passed", protocol_names[proto]);
		return TRUE;
	}
	gboolean off;
	g_autofree char *path = NULL;
	g_autoptr (GSocketAddress) addr = parse_address (text, &off, &path, error);
	if (off)
		return TRUE;
	if (!addr)
		return FALSE;
	g_autoptr (GSocket) sock = bound_socket (server, addr, path, error);
	if (!sock || !add_listener (server, proto, sock, error))
		return FALSE;
	g_message ("%s: listening on %s", protocol_names[proto], text);
	return TRUE;
}

/* ---- timers and signals ------------------------------------------------- */

static gboolean
watch_compaction (gpointer data)
{
	Server *server = data;
	http_forget_closed (server);
	if (serve_release (&server->sv, FALSE))
		g_message ("a compaction waits: database closed until it is done");
	return G_SOURCE_CONTINUE;
}

static gboolean
on_hup (gpointer data)
{
	Server *server = data;
	serve_release (&server->sv, TRUE);
	g_message ("SIGHUP: database closed; opened again on the next request");
	return G_SOURCE_CONTINUE;
}

static gboolean
on_term (gpointer data)
{
	g_main_loop_quit (((Server *) data)->loop);
	return G_SOURCE_CONTINUE;
}

static void
log_line (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
	/* One line each, for the journal: "bouncedb: serve: ..." */
	fprintf (stderr, "bouncedb: serve: %s\n", message);
}

/* ---- configuration ------------------------------------------------------- */

/* 550, not REJECT's 554 (access_map_reject_code): the mailbox, not the
 * transaction, is what is refused. */
#define DEFAULT_REFUSAL "550 5.1.1 <{address}>: suppressed ({reason} since {since})"
#define DEFAULT_TRANSPORT "error:5.1.1 <{address}>: suppressed ({reason} since {since})"

static gboolean
read_config (Server *server, GError **error)
{
	Cli *cli = server->cli;
	GKeyFile *kf = cli->config;
	ServeConfig *c = &server->config;
	c->db_dir = g_strdup (cli_db_path (cli));
	bdb_store_options_init (&c->store);
	c->store.read_only = TRUE;
	c->store.lock_timeout_ms = cli_config_uint (kf, "database", "lock_timeout_ms", c->store.lock_timeout_ms);
	c->address_flags = cli->input_flags;
	c->access[SERVE_ACTION_SUPPRESSED] = cli_config_string (kf, "serve", "access_suppressed", DEFAULT_REFUSAL);
	c->access[SERVE_ACTION_INACTIVE] = cli_config_string (kf, "serve", "access_inactive", DEFAULT_REFUSAL);
	c->access[SERVE_ACTION_COMPLAINT] = cli_config_string (kf, "serve", "access_complaint", DEFAULT_REFUSAL);
	c->transport[SERVE_ACTION_SUPPRESSED] = cli_config_string (kf, "serve", "transport_suppressed", DEFAULT_TRANSPORT);
	c->transport[SERVE_ACTION_INACTIVE] = cli_config_string (kf, "serve", "transport_inactive", DEFAULT_TRANSPORT);
	c->transport[SERVE_ACTION_COMPLAINT] = cli_config_string (kf, "serve", "transport_complaint", DEFAULT_TRANSPORT);
	c->max_request_size = cli_config_size (kf, "serve", "max_request_size", 16u << 20);
	c->max_line_length = cli_config_size (kf, "serve", "max_line_length", 2048);
	c->max_attributes = cli_config_uint (kf, "serve", "max_attributes", 100);
	c->max_connections = cli_config_uint (kf, "serve", "max_connections", 256);
	c->idle_timeout = 300;
	c->metrics_interval = 60;
	g_autofree char *idle = g_key_file_get_string (kf, "serve", "idle_timeout", NULL);
	g_autofree char *interval = g_key_file_get_string (kf, "serve", "metrics_interval", NULL);
	gint64 secs;
	if (idle && (!cli_parse_duration (idle, &secs) || secs > G_MAXUINT)) {
		g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		             "[serve] idle_timeout: bad duration '%s'", idle);
		return FALSE;
	}
	if (idle)
		c->idle_timeout = (guint) secs;
	if (interval && !cli_parse_duration (interval, &c->metrics_interval)) {
		g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		             "[serve] metrics_interval: bad duration '%s'", interval);
		return FALSE;
	}
	return TRUE;
}

int
cmd_serve (Cli *cli, int argc, char **argv)
{
	g_autofree char *socketmap = NULL, *policy = NULL, *http = NULL;
	GOptionEntry entries[] = {
		{ "socketmap", 0, 0, G_OPTION_ARG_STRING, &socketmap,
		  "Postfix socketmap listener (default unix:/run/bouncedb/socketmap)", "ADDR" },
		{ "policy", 0, 0, G_OPTION_ARG_STRING, &policy,
		  "Postfix policy service listener (default unix:/run/bouncedb/policy)", "ADDR" },
		{ "http", 0, 0, G_OPTION_ARG_STRING, &http,
		  "HTTP/JSON and /metrics listener (default unix:/run/bouncedb/http)", "ADDR" },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli,
		"ADDR is unix:PATH, inet:HOST:PORT, HOST:PORT or PORT (on 127.0.0.1), or none.\n"
		"Defaults come from [serve] in bouncedb.conf(5).  Runs until SIGTERM; SIGHUP\n"
		"closes the database (opened again on the next request).\n"
		"\n"
		"Examples:\n"
		"  bouncedb serve\n"
		"  bouncedb serve --http 127.0.0.1:8025 --policy none\n"
		"  postconf -e 'smtpd_recipient_restrictions = check_recipient_access\n"
		"      socketmap:unix:/run/bouncedb/socketmap:access, ...'",
		entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc > 1) {
		cli_warn (cli, "takes no arguments");
		return EX_USAGE;
	}
	Server server = { 0 };
	server.cli = cli;
	GError *error = NULL;
	if (!read_config (&server, &error)) {
		status = cli_fail (cli, cli->config_path, &error);
		serve_config_clear (&server.config);
		return status;
	}
	serve_init (&server.sv, &server.config);
	/* A client that hangs up before its reply is its business. */
	signal (SIGPIPE, SIG_IGN);
	g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_WARNING, log_line, NULL);

	/* The database must be there and readable now: a wrong path or a
	 * missing permission is found at start, not at the first lookup. */
	BdbTxn *probe = serve_read (&server.sv, &error);
	if (!probe) {
		if (g_error_matches (error, BDB_ERROR, BDB_ERROR_NOT_FOUND))
			cli_warn (cli, "no database in '%s' (run a sweep or ingest first, or give --db DIR)",
			          server.config.db_dir);
		else
			cli_error (cli, server.config.db_dir, error);
		status = cli_exit_code (error);
		g_clear_error (&error);
		serve_clear (&server.sv);
		serve_config_clear (&server.config);
		return status;
	}
	bdb_txn_abort (probe);

	GKeyFile *kf = cli->config;
	g_autofree char *conf_sm = cli_config_string (kf, "serve", "socketmap", "unix:/run/bouncedb/socketmap");
	g_autofree char *conf_po = cli_config_string (kf, "serve", "policy", "unix:/run/bouncedb/policy");
	g_autofree char *conf_ht = cli_config_string (kf, "serve", "http", "unix:/run/bouncedb/http");
	server.service = g_socket_service_new ();
	server.unix_paths = g_ptr_array_new_with_free_func (g_free);
	server.soup = soup_server_new ("server-header", "bouncedb/" BDB_VERSION_STRING " ", NULL);
	soup_server_add_early_handler (server.soup, NULL, http_early, &server, NULL);
	soup_server_add_handler (server.soup, NULL, http_handler, &server, NULL);
	server.http_sockets = g_hash_table_new_full (NULL, NULL, g_object_unref, g_free);
	g_signal_connect (server.soup, "request-started", G_CALLBACK (http_request_started), &server);
	g_signal_connect (server.service, "incoming", G_CALLBACK (incoming), &server);
	const char *want[SERVE_N_PROTOCOLS] = {
		socketmap ? socketmap : conf_sm, policy ? policy : conf_po, http ? http : conf_ht,
	};
	for (int p = 0; p < SERVE_N_PROTOCOLS && status == EX_OK; p++) {
		if (!listen_on (&server, (ServeProtocol) p, want[p], &error)) {
			g_autofree char *what = g_strdup_printf ("%s %s", protocol_names[p], want[p]);
			status = error->domain == G_OPTION_ERROR ? EX_USAGE
			       : error->domain == G_KEY_FILE_ERROR ? EX_CONFIG
			       : g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) ? EX_NOPERM
			       : EX_OSERR;
			cli_error (cli, what, error);
			g_clear_error (&error);
		}
	}
	if (status == EX_OK) {
		server.loop = g_main_loop_new (NULL, FALSE);
		g_timeout_add (100, watch_compaction, &server);
		g_unix_signal_add (SIGHUP, on_hup, &server);
		g_unix_signal_add (SIGTERM, on_term, &server);
		g_unix_signal_add (SIGINT, on_term, &server);
		g_socket_service_start (server.service);
		g_message ("serving %s", server.config.db_dir);
		g_main_loop_run (server.loop);
		g_message ("stopping");
		g_main_loop_unref (server.loop);
	}
	g_socket_service_stop (server.service);
	g_socket_listener_close (G_SOCKET_LISTENER (server.service));
	for (guint i = 0; i < server.unix_paths->len; i++)
		unlink (g_ptr_array_index (server.unix_paths, i));
	g_ptr_array_unref (server.unix_paths);
	g_hash_table_unref (server.http_sockets);
	soup_server_disconnect (server.soup);
	g_object_unref (server.soup);
	g_object_unref (server.service);
	for (int p = 0; p < SERVE_N_PROTOCOLS; p++)
		g_clear_object (&server.tags[p]);
	serve_clear (&server.sv);
	serve_config_clear (&server.config);
	return cli_finish (cli, status);
}
