/*
 * pgwire_conn.c - the connection-level protocol state machine (net_pg_conn).
 *
 *   STARTUP --SSLRequest/GSSENCRequest--> 'N', STARTUP
 *   STARTUP --CancelRequest--> (caller cancels) CLOSING
 *   STARTUP --StartupMessage--> [NegotiateProtocolVersion]
 *           trust:     AUTH_OK ... READY
 *           cleartext: R3 -> AUTH_PASSWORD -p-> AUTH_OK ... READY
 *           SCRAM:     R10 -> AUTH_SASL_INIT -p-> R11 -> AUTH_SASL_CONT -p-> R12, AUTH_OK ... READY
 *   READY   --message--> caller; caller reports an error on an extended
 *           message --> SKIP_TO_SYNC --Sync--> caller (READY)
 *   READY   --caller starts COPY FROM STDIN--> copy_in: CopyData* then
 *           CopyDone/CopyFail to the caller; an error ends copy_in and the
 *           rest of the client's Copy* messages are dropped
 *   any     --framing lost, malformed message, FATAL--> CLOSING
 *
 * "AUTH_OK ..." is PostgreSQL's order: AuthenticationOk, then the database
 * check (FATAL 3D000 after AuthenticationOk, as InitPostgres does), then
 * every ParameterStatus, BackendKeyData and ReadyForQuery 'I'.
 *
 * Memory: the conn arena holds what lives as long as the connection
 * (startup parameters, user, database, verifier copy); the message arena is
 * recreated on every step. Reported parameter values are malloc'd one by
 * one because SET may replace them any number of times.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/pgwire.h"
#include "net/scram.h"

typedef enum phase {
    PH_STARTUP,
    PH_AUTH_PASSWORD,
    PH_AUTH_SASL_INIT,
    PH_AUTH_SASL_CONT,
    PH_READY,
    PH_SKIP_TO_SYNC,
    PH_CLOSING,
} phase;

/* The parameters clients track through ParameterStatus, in the order
 * PostgreSQL 15 reports them: X(id, name, default, settable in the startup
 * packet). Defaults NULL are per session (role, user). */
#define REPORTED(X)                                               \
    X(APPLICATION_NAME, "application_name", "", 1)                \
    X(CLIENT_ENCODING, "client_encoding", "UTF8", 1)              \
    X(DATESTYLE, "DateStyle", "ISO, MDY", 1)                      \
    X(READ_ONLY, "default_transaction_read_only", "off", 1)       \
    X(HOT_STANDBY, "in_hot_standby", "off", 0)                    \
    X(INTEGER_DATETIMES, "integer_datetimes", "on", 0)            \
    X(INTERVALSTYLE, "IntervalStyle", "postgres", 1)              \
    X(IS_SUPERUSER, "is_superuser", NULL, 0)                      \
    X(SERVER_ENCODING, "server_encoding", "UTF8", 0)              \
    X(SERVER_VERSION, "server_version", NET_PG_SERVER_VERSION, 0) \
    X(SESSION_AUTH, "session_authorization", NULL, 0)             \
    X(STD_STRINGS, "standard_conforming_strings", "on", 0)        \
    X(TIMEZONE, "TimeZone", "Etc/UTC", 1)

enum {
#define X(id, name, def, settable) P_##id,
    REPORTED(X)
#undef X
        P_COUNT
};

static const struct {
    const char *name;
    const char *def;
    int settable;
} params[P_COUNT] = {
#define X(id, name, def, settable) {name, def, settable},
    REPORTED(X)
#undef X
};

struct net_pg_conn {
    net_pg_config cfg;
    net_pg_reader *reader;
    kv_arena *conn_arena;
    kv_arena *msg_arena;
    phase phase;
    char txn_status;
    int last_extended; /* the last message handed out was extended-protocol */
    int authenticated; /* startup completed: user and database are valid */
    int copy_in;       /* COPY FROM STDIN running: Copy* messages expected */
    const char *user, *database;
    net_pg_role role;
    int role_found;
    net_scram_server *scram;
    size_t nstartup;
    const char **startup_names, **startup_values;
    char *params[P_COUNT];
};

int net_pg_conn_create(const net_pg_config *cfg, net_pg_conn **out)
{
    net_pg_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NET_ENOMEM;
    c->cfg = *cfg;
    c->txn_status = 'I';
    if (net_pg_reader_create(cfg->max_message, &c->reader) < 0)
        goto out_free;
    if (kv_arena_create(&c->conn_arena) != 0)
        goto out_free_reader;
    if (kv_arena_create(&c->msg_arena) != 0)
        goto out_free_conn_arena;
    *out = c;
    return 0;
out_free_conn_arena:
    kv_arena_destroy(c->conn_arena);
out_free_reader:
    net_pg_reader_destroy(c->reader);
out_free:
    free(c);
    return NET_ENOMEM;
}

void net_pg_conn_destroy(net_pg_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < P_COUNT; i++)
        free(c->params[i]);
    net_scram_server_destroy(c->scram);
    kv_arena_destroy(c->msg_arena);
    kv_arena_destroy(c->conn_arena);
    net_pg_reader_destroy(c->reader);
    free(c);
}

int net_pg_conn_feed(net_pg_conn *c, const void *data, size_t len)
{
    return net_pg_reader_feed(c->reader, data, len);
}

char net_pg_conn_peek(const net_pg_conn *c)
{
    return net_pg_reader_peek(c->reader);
}

kv_arena *net_pg_conn_arena(net_pg_conn *c)
{
    return c->msg_arena;
}

/* ---- errors ---------------------------------------------------------- */

/* Appends a FATAL ErrorResponse and moves to CLOSING. CLOSE or NET_ENOMEM. */
static int send_fatal(net_pg_conn *c, net_pg_buf *out, sql_error *e)
{
    e->severity = SQL_SEV_FATAL;
    c->phase = PH_CLOSING;
    int rc = net_pg_put_error(out, e);
    return rc < 0 ? rc : NET_PG_STEP_CLOSE;
}

static int fatal(net_pg_conn *c, net_pg_buf *out, sql_sqlstate state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fatal(net_pg_conn *c, net_pg_buf *out, sql_sqlstate state, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sql_error e;
    sql_error_set(&e, c->msg_arena, state, "%s", msg);
    return send_fatal(c, out, &e);
}

static int auth_failed(net_pg_conn *c, net_pg_buf *out)
{
    return fatal(c, out, SQL_STATE_INVALID_PASSWORD,
                 "password authentication failed for user \"%s\"", c->user);
}

int net_pg_conn_error(net_pg_conn *c, net_pg_buf *out, const sql_error *e)
{
    int rc = net_pg_put_error(out, e);
    if (rc < 0)
        return rc;
    if (e->severity == SQL_SEV_ERROR || e->severity == SQL_SEV_FATAL ||
        e->severity == SQL_SEV_PANIC)
        c->copy_in = 0;
    if (e->severity == SQL_SEV_FATAL || e->severity == SQL_SEV_PANIC)
        c->phase = PH_CLOSING;
    else if (e->severity == SQL_SEV_ERROR && c->last_extended && c->phase == PH_READY)
        c->phase = PH_SKIP_TO_SYNC;
    return 0;
}

/* ---- parameters ------------------------------------------------------ */

static int param_index(const char *name)
{
    for (int i = 0; i < P_COUNT; i++)
        if (strcasecmp(params[i].name, name) == 0)
            return i;
    return -1;
}

/* Replaces parameter i's value; NET_ENOMEM leaves the old one. */
static int store_param(net_pg_conn *c, int i, const char *value)
{
    char *dup = strdup(value);
    if (dup == NULL)
        return NET_ENOMEM;
    free(c->params[i]);
    c->params[i] = dup;
    return 0;
}

int net_pg_conn_set_param(net_pg_conn *c, net_pg_buf *out, const char *name, const char *value)
{
    int i = param_index(name);
    if (i < 0)
        return 0;
    int rc = net_pg_put_parameter_status(out, params[i].name, value);
    return rc < 0 ? rc : store_param(c, i, value);
}

const char *net_pg_conn_param(const net_pg_conn *c, const char *name)
{
    int i = param_index(name);
    if (i >= 0 && c->params[i] != NULL)
        return c->params[i];
    for (size_t j = 0; j < c->nstartup; j++)
        if (strcmp(c->startup_names[j], name) == 0)
            return c->startup_values[j];
    return NULL;
}

const char *net_pg_conn_user(const net_pg_conn *c)
{
    return c->authenticated ? c->user : NULL;
}

const char *net_pg_conn_database(const net_pg_conn *c)
{
    return c->authenticated ? c->database : NULL;
}

void net_pg_conn_set_txn_status(net_pg_conn *c, char status)
{
    assert(status == 'I' || status == 'T' || status == 'E');
    c->txn_status = status;
}

int net_pg_conn_ready(net_pg_conn *c, net_pg_buf *out)
{
    return net_pg_put_ready(out, c->txn_status);
}

/* ---- startup --------------------------------------------------------- */

/* Copies the startup parameters into the conn arena and picks out user and
 * database (which defaults to the user, as in PostgreSQL). */
static int keep_startup(net_pg_conn *c, const net_pg_msg *m)
{
    size_t n = m->u.startup.nparams;
    c->startup_names = kv_arena_alloc(c->conn_arena, n * sizeof(char *));
    c->startup_values = kv_arena_alloc(c->conn_arena, n * sizeof(char *));
    if (c->startup_names == NULL || c->startup_values == NULL)
        return NET_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *name = m->u.startup.names[i], *value = m->u.startup.values[i];
        c->startup_names[i] = kv_arena_strdup(c->conn_arena, name);
        c->startup_values[i] = kv_arena_strdup(c->conn_arena, value);
        if (c->startup_names[i] == NULL || c->startup_values[i] == NULL)
            return NET_ENOMEM;
        if (strcmp(name, "user") == 0)
            c->user = c->startup_values[i];
        else if (strcmp(name, "database") == 0 && *value != '\0')
            c->database = c->startup_values[i];
    }
    c->nstartup = n;
    if (c->database == NULL)
        c->database = c->user;
    return 0;
}

/* NegotiateProtocolVersion when the client asked for a minor version above
 * ours or sent `_pq_.` options (protocol extensions we know none of). */
static int negotiate(net_pg_conn *c, net_pg_buf *out, const net_pg_msg *m)
{
    size_t n = 0;
    const char **opts = kv_arena_alloc(c->msg_arena, m->u.startup.nparams * sizeof(char *));
    if (opts == NULL)
        return NET_ENOMEM;
    for (size_t i = 0; i < m->u.startup.nparams; i++)
        if (strncmp(m->u.startup.names[i], "_pq_.", 5) == 0)
            opts[n++] = m->u.startup.names[i];
    if (n == 0 && m->u.startup.minor <= NET_PG_PROTOCOL_MINOR)
        return 0;
    return net_pg_put_negotiate_version(out, NET_PG_PROTOCOL_MINOR, n, opts);
}

/* Starts the configured authentication exchange for c->user. */
static int start_auth(net_pg_conn *c, net_pg_buf *out);

static int on_startup(net_pg_conn *c, net_pg_buf *out, const net_pg_msg *m)
{
    int rc;
    switch (m->kind) {
    case NET_PG_SSL_REQUEST:
    case NET_PG_GSSENC_REQUEST:
        /* TLS and GSSAPI encryption come later: refuse, stay in startup. */
        rc = net_pg_put_refuse_encryption(out);
        return rc < 0 ? rc : NET_PG_STEP_NEED_INPUT;
    case NET_PG_CANCEL_REQUEST:
        c->phase = PH_CLOSING;
        return NET_PG_STEP_CANCEL;
    case NET_PG_STARTUP:
        net_pg_reader_start_typed(c->reader);
        if ((rc = negotiate(c, out, m)) < 0 || (rc = keep_startup(c, m)) < 0)
            return rc;
        if (c->user == NULL || *c->user == '\0')
            return fatal(c, out, SQL_STATE_INVALID_AUTHORIZATION_SPECIFICATION,
                         "no PostgreSQL user name specified in startup packet");
        return start_auth(c, out);
    default:
        /* The untyped reader yields nothing else. */
        assert(0);
        return NET_EINVAL;
    }
}

/* ---- authentication -------------------------------------------------- */

static int finish_startup(net_pg_conn *c, net_pg_buf *out);

static int start_auth(net_pg_conn *c, net_pg_buf *out)
{
    net_pg_role role = {0};
    int rc = c->cfg.role(c->cfg.ctx, c->user, &role);
    if (rc < 0)
        return rc;
    c->role_found = rc == 0;
    c->role.superuser = role.superuser;
    if (c->role_found && role.verifier != NULL) {
        c->role.verifier = kv_arena_strdup(c->conn_arena, role.verifier);
        if (c->role.verifier == NULL)
            return NET_ENOMEM;
    }
    switch (c->cfg.auth) {
    case NET_PG_AUTH_METHOD_TRUST:
        if (!c->role_found)
            return fatal(c, out, SQL_STATE_INVALID_AUTHORIZATION_SPECIFICATION,
                         "role \"%s\" does not exist", c->user);
        return finish_startup(c, out);
    case NET_PG_AUTH_METHOD_CLEARTEXT:
        c->phase = PH_AUTH_PASSWORD;
        rc = net_pg_put_auth(out, NET_PG_AUTH_CLEARTEXT, NULL, 0);
        return rc < 0 ? rc : NET_PG_STEP_NEED_INPUT;
    case NET_PG_AUTH_METHOD_SCRAM:
        /* An unknown role or one without a password runs a mock exchange
         * that fails at the end, so clients cannot probe role names. */
        rc = net_scram_server_create(c->role.verifier, c->cfg.scram_nonce, &c->scram);
        if (rc == NET_EINVAL)
            rc = net_scram_server_create(NULL, c->cfg.scram_nonce, &c->scram);
        if (rc < 0)
            return rc;
        c->phase = PH_AUTH_SASL_INIT;
        rc = net_pg_put_auth(out, NET_PG_AUTH_SASL, NET_SCRAM_MECHANISM "\0",
                             sizeof(NET_SCRAM_MECHANISM) + 1);
        return rc < 0 ? rc : NET_PG_STEP_NEED_INPUT;
    }
    return NET_EINVAL;
}

static int on_cleartext(net_pg_conn *c, net_pg_buf *out, const net_pg_msg *m)
{
    const char *password;
    sql_error e;
    if (net_pg_parse_password(m, &password, c->msg_arena, &e) < 0)
        return send_fatal(c, out, &e);
    if (c->role.verifier == NULL)
        return auth_failed(c, out);
    int rc = net_scram_check_password(c->role.verifier, password);
    if (rc == NET_EAUTH || rc == NET_EINVAL)
        return auth_failed(c, out);
    return rc < 0 ? rc : finish_startup(c, out);
}

/* Maps a SCRAM step's failure onto the FATAL the client sees. */
static int scram_failed(net_pg_conn *c, net_pg_buf *out, int rc)
{
    if (rc == NET_EAUTH)
        return auth_failed(c, out);
    if (rc == NET_EPROTO)
        return fatal(c, out, SQL_STATE_PROTOCOL_VIOLATION, "malformed SCRAM message");
    return rc;
}

static int on_sasl(net_pg_conn *c, net_pg_buf *out, const net_pg_msg *m)
{
    char reply[2 * NET_SCRAM_MAX_MSG];
    int n;
    if (c->phase == PH_AUTH_SASL_INIT) {
        const char *mech;
        net_pg_value data;
        sql_error e;
        if (net_pg_parse_sasl_initial(m, &mech, &data, c->msg_arena, &e) < 0)
            return send_fatal(c, out, &e);
        if (strcmp(mech, NET_SCRAM_MECHANISM) != 0)
            return fatal(c, out, SQL_STATE_PROTOCOL_VIOLATION,
                         "client selected an invalid SASL authentication mechanism");
        if (data.len < 0)
            return scram_failed(c, out, NET_EPROTO);
        n = net_scram_server_first(c->scram, data.data, (size_t)data.len, reply, sizeof(reply));
        if (n < 0)
            return scram_failed(c, out, n);
        c->phase = PH_AUTH_SASL_CONT;
        int rc = net_pg_put_auth(out, NET_PG_AUTH_SASL_CONTINUE, reply, (size_t)n);
        return rc < 0 ? rc : NET_PG_STEP_NEED_INPUT;
    }
    n = net_scram_server_final(c->scram, m->u.password.data, m->u.password.len, reply,
                               sizeof(reply));
    if (n < 0)
        return scram_failed(c, out, n);
    int rc = net_pg_put_auth(out, NET_PG_AUTH_SASL_FINAL, reply, (size_t)n);
    return rc < 0 ? rc : finish_startup(c, out);
}

static int on_auth(net_pg_conn *c, net_pg_buf *out, const net_pg_msg *m)
{
    if (m->kind == NET_PG_TERMINATE) {
        c->phase = PH_CLOSING;
        return NET_PG_STEP_CLOSE;
    }
    if (m->kind != NET_PG_PASSWORD)
        return fatal(c, out, SQL_STATE_PROTOCOL_VIOLATION,
                     "expected password response, got another message");
    if (c->phase == PH_AUTH_PASSWORD)
        return on_cleartext(c, out, m);
    return on_sasl(c, out, m);
}

/* PostgreSQL's canonical DateStyle ("ISO, MDY") for a client's setting
 * such as "ISO" (pgjdbc) or "sql, dmy"; NULL when a word is unknown.
 * A half the client leaves out keeps the server default (ISO, MDY). */
static const char *canonical_datestyle(const char *v, char *buf, size_t cap)
{
    static const char *const words[][3] = {
        /* word, canonical spelling, which half: 's'tyle or 'o'rder */
        {"ISO", "ISO", "s"},       {"SQL", "SQL", "s"},         {"POSTGRES", "Postgres", "s"},
        {"GERMAN", "German", "s"}, {"MDY", "MDY", "o"},         {"US", "MDY", "o"},
        {"NONEURO", "MDY", "o"},   {"NONEUROPEAN", "MDY", "o"}, {"DMY", "DMY", "o"},
        {"EURO", "DMY", "o"},      {"EUROPEAN", "DMY", "o"},    {"YMD", "YMD", "o"},
        {"DEFAULT", NULL, ""},
    };
    const size_t nwords = sizeof(words) / sizeof(words[0]);
    const char *style = "ISO", *order = "MDY";
    char copy[64], *save;
    if (snprintf(copy, sizeof(copy), "%s", v) >= (int)sizeof(copy))
        return NULL;
    for (char *w = strtok_r(copy, ", ", &save); w != NULL; w = strtok_r(NULL, ", ", &save)) {
        size_t i = 0;
        while (i < nwords && strcasecmp(w, words[i][0]) != 0)
            i++;
        if (i == nwords)
            return NULL;
        if (words[i][2][0] == 's')
            style = words[i][1];
        else if (words[i][2][0] == 'o')
            order = words[i][1];
    }
    snprintf(buf, cap, "%s, %s", style, order);
    return buf;
}

/* The value parameter i starts with: the startup packet's where allowed
 * (client_encoding and DateStyle canonicalised as PostgreSQL reports
 * them), else the session's or the server's. NULL: the client's value is
 * invalid. A canonicalised value is written to `buf`. */
static const char *initial_param(net_pg_conn *c, int i, char *buf, size_t cap)
{
    const char *v = params[i].settable ? net_pg_conn_param(c, params[i].name) : NULL;
    if (v != NULL && i == P_CLIENT_ENCODING) {
        /* Only UTF8 is spoken; accept PostgreSQL's spellings of it. */
        int utf8 = strcasecmp(v, "UTF8") == 0 || strcasecmp(v, "UTF-8") == 0 ||
                   strcasecmp(v, "UNICODE") == 0;
        return utf8 ? "UTF8" : NULL;
    }
    if (v != NULL && i == P_DATESTYLE)
        return canonical_datestyle(v, buf, cap);
    if (v != NULL)
        return v;
    if (i == P_IS_SUPERUSER)
        return c->role.superuser ? "on" : "off";
    if (i == P_SESSION_AUTH)
        return c->user;
    return params[i].def;
}

/* The caller's session callback, once the client's values are known to
 * be valid: 0 to go on, CLOSE after a refusal, or a negative NET_E*. */
static int start_session(net_pg_conn *c, net_pg_buf *out)
{
    if (c->cfg.session == NULL)
        return 0;
    sql_error e = {0};
    int rc = c->cfg.session(c->cfg.ctx, c->user, c->database, c->nstartup,
                            (const char *const *)c->startup_names,
                            (const char *const *)c->startup_values, &e, c->msg_arena);
    return rc > 0 ? send_fatal(c, out, &e) : rc;
}

static int finish_startup(net_pg_conn *c, net_pg_buf *out)
{
    int rc = net_pg_put_auth(out, NET_PG_AUTH_OK, NULL, 0);
    if (rc < 0)
        return rc;
    if ((rc = c->cfg.database(c->cfg.ctx, c->database)) <= 0)
        return rc < 0 ? rc
                      : fatal(c, out, SQL_STATE_INVALID_CATALOG_NAME,
                              "database \"%s\" does not exist", c->database);
    /* Validate every value before the first ParameterStatus goes out. Only
     * DateStyle is canonicalised into `buf`, so one buffer serves all. */
    const char *values[P_COUNT];
    char buf[64];
    for (int i = 0; i < P_COUNT; i++)
        if ((values[i] = initial_param(c, i, buf, sizeof(buf))) == NULL)
            return fatal(c, out, SQL_STATE_INVALID_PARAMETER_VALUE,
                         "invalid value for parameter \"%s\": \"%s\"", params[i].name,
                         net_pg_conn_param(c, params[i].name));
    if ((rc = start_session(c, out)) != 0)
        return rc;
    for (int i = 0; i < P_COUNT && c->cfg.setting != NULL; i++) {
        const char *v = c->cfg.setting(c->cfg.ctx, params[i].name);
        if (v != NULL)
            values[i] = v;
    }
    for (int i = 0; i < P_COUNT; i++)
        if ((rc = net_pg_put_parameter_status(out, params[i].name, values[i])) < 0 ||
            (rc = store_param(c, i, values[i])) < 0)
            return rc;
    c->phase = PH_READY;
    c->authenticated = 1;
    if ((rc = net_pg_put_backend_key(out, c->cfg.pid, c->cfg.secret)) < 0 ||
        (rc = net_pg_put_ready(out, c->txn_status)) < 0)
        return rc;
    return NET_PG_STEP_NEED_INPUT;
}

/* ---- ready ----------------------------------------------------------- */

static int is_extended(net_pg_msg_kind k)
{
    return k == NET_PG_PARSE || k == NET_PG_BIND || k == NET_PG_DESCRIBE || k == NET_PG_EXECUTE ||
           k == NET_PG_CLOSE || k == NET_PG_FLUSH;
}

static int is_copy(net_pg_msg_kind k)
{
    return k == NET_PG_COPY_DATA || k == NET_PG_COPY_DONE || k == NET_PG_COPY_FAIL;
}

int net_pg_conn_copy_in(net_pg_conn *c, net_pg_buf *out, int8_t format, size_t ncols,
                        const int16_t *col_formats)
{
    assert(c->phase == PH_READY && !c->copy_in);
    int rc = net_pg_put_copy_response(out, 'G', format, ncols, col_formats);
    if (rc == 0)
        c->copy_in = 1;
    return rc;
}

/* COPY FROM STDIN in progress: CopyData goes to the executor, CopyDone or
 * CopyFail ends it; Flush and Sync are ignored (PostgreSQL accepts them
 * from extended-protocol clients); anything else is a protocol violation.
 * last_extended stays that of the statement that started the COPY. */
static int on_copy_in(net_pg_conn *c, net_pg_buf *out, const net_pg_msg *m)
{
    if (m->kind == NET_PG_FLUSH || m->kind == NET_PG_SYNC)
        return NET_PG_STEP_NEED_INPUT;
    if (!is_copy(m->kind))
        return fatal(c, out, SQL_STATE_PROTOCOL_VIOLATION,
                     "unexpected message type during COPY from stdin");
    if (m->kind != NET_PG_COPY_DATA)
        c->copy_in = 0;
    return NET_PG_STEP_MESSAGE;
}

/* A message in READY or SKIP_TO_SYNC: MESSAGE for the caller, CLOSE, or
 * NEED_INPUT to drop it and read on. */
static int on_session(net_pg_conn *c, net_pg_buf *out, const net_pg_msg *m)
{
    if (m->kind == NET_PG_TERMINATE) {
        c->phase = PH_CLOSING;
        return NET_PG_STEP_CLOSE;
    }
    if (m->kind == NET_PG_PASSWORD)
        return fatal(c, out, SQL_STATE_PROTOCOL_VIOLATION, "unexpected password message");
    if (c->copy_in)
        return on_copy_in(c, out, m);
    /* Copy messages outside COPY (the rest of a failed one) are dropped,
     * as the protocol specifies. */
    if (is_copy(m->kind))
        return NET_PG_STEP_NEED_INPUT;
    if (c->phase == PH_SKIP_TO_SYNC) {
        if (m->kind != NET_PG_SYNC)
            return NET_PG_STEP_NEED_INPUT;
        c->phase = PH_READY;
    }
    c->last_extended = is_extended(m->kind);
    return NET_PG_STEP_MESSAGE;
}

int net_pg_conn_step(net_pg_conn *c, net_pg_buf *out, net_pg_msg *m)
{
    kv_arena_destroy(c->msg_arena);
    c->msg_arena = NULL;
    if (kv_arena_create(&c->msg_arena) != 0)
        return NET_ENOMEM;
    for (;;) {
        net_pg_frame f;
        sql_error e;
        if (c->phase == PH_CLOSING)
            return NET_PG_STEP_CLOSE;
        int rc = net_pg_reader_next(c->reader, &f, &e, c->msg_arena);
        if (rc == 0)
            return NET_PG_STEP_NEED_INPUT;
        if (rc == 1)
            rc = net_pg_parse(&f, m, c->msg_arena, &e);
        if (rc == NET_ENOMEM)
            return rc;
        if (rc < 0)
            return send_fatal(c, out, &e);
        switch (c->phase) {
        case PH_STARTUP:
            rc = on_startup(c, out, m);
            break;
        case PH_READY:
        case PH_SKIP_TO_SYNC:
            rc = on_session(c, out, m);
            break;
        default:
            rc = on_auth(c, out, m);
            break;
        }
        /* NEED_INPUT from a handler: nothing for the caller, read on. */
        if (rc != NET_PG_STEP_NEED_INPUT)
            return rc;
    }
}
