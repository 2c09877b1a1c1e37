/*
 * fake_session.h - what the pgwire server suite can observe of its
 * sql/session.h test double (fake_session.c).
 */
#ifndef TESTS_NET_FAKE_SESSION_H
#define TESTS_NET_FAKE_SESSION_H

#include <stdatomic.h>

/* Sessions created and not yet destroyed. */
extern atomic_int fake_live_sessions;
/* The sync_follows flag of the last sql_session_execute call. */
extern atomic_bool fake_last_sync_follows;

#endif /* TESTS_NET_FAKE_SESSION_H */
