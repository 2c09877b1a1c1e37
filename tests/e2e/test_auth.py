#!/usr/bin/python3
"""Password authentication on a node started without --insecure.

Users are made while the server is insecure (trust), then it restarts in
secure mode (harness.Server.restart(secure=True)):

    alice  CREATE USER ... PASSWORD 'first', then ALTER USER ... 'wonder land'
    carol  created, then DROP USER

libpq reports a failed startup only as text, so the SQLSTATE of each FATAL
is read with the protocol client of wire.py, and psycopg2 checks that a
real driver gets in, or gets the same message.
"""

import psycopg2

import harness
import wire

INVALID_PASSWORD = "28P01"
INVALID_CATALOG_NAME = "3D000"


def startup(server, user, database, password):
    """("ok", mechanism) or ("error", ErrorResponse fields, mechanism)."""
    with wire.Client(server) as c:
        try:
            c.startup(user, database, password)
            return ("ok", c.mechanism)
        except wire.WireError as e:
            return ("error", e.fields, c.mechanism)


class AuthTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        conn = cls.server.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE USER alice WITH PASSWORD 'first'")
                cur.execute("ALTER USER alice WITH PASSWORD 'wonder land'")
                cur.execute("CREATE USER carol WITH PASSWORD 'gone'")
                cur.execute("DROP USER carol")
                cls.duplicate_user_error = None
                try:
                    cur.execute("CREATE USER alice WITH PASSWORD 'again'")
                except psycopg2.Error as e:
                    cls.duplicate_user_error = e
        finally:
            conn.close()
        cls.server.restart(secure=True)

    def test_duplicate_user_is_rejected(self):
        e = self.duplicate_user_error
        self.assertIsNotNone(e)
        self.assertEqual(e.pgcode, "42710")
        self.assertEqual(e.diag.message_primary, 'role "alice" already exists')

    def test_right_password_uses_scram(self):
        self.assertEqual(startup(self.server, "alice", harness.DATABASE, "wonder land"), ("ok", "SCRAM-SHA-256"))
        conn = self.server.connect(user="alice", password="wonder land")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 + 1")
                self.assertEqual(cur.fetchone(), (2,))
        finally:
            conn.close()

    def assert_rejected(self, user, database, password, sqlstate, message):
        result = startup(self.server, user, database, password)
        self.assertEqual(result[0], "error", result)
        fields = result[1]
        self.assertEqual((fields["S"], fields["C"], fields["M"]), ("FATAL", sqlstate, message))
        with self.assertRaises(psycopg2.OperationalError) as cm:
            self.server.connect(user=user, dbname=database, password=password).close()
        self.assertIn(message, str(cm.exception))

    def test_wrong_password(self):
        self.assert_rejected("alice", harness.DATABASE, "wrong", INVALID_PASSWORD,
                             'password authentication failed for user "alice"')

    def test_old_password_after_alter(self):
        self.assert_rejected("alice", harness.DATABASE, "first", INVALID_PASSWORD,
                             'password authentication failed for user "alice"')

    def test_dropped_and_unknown_users(self):
        for user in ("carol", "nobody"):
            with self.subTest(user):
                self.assert_rejected(user, harness.DATABASE, "gone", INVALID_PASSWORD,
                                     f'password authentication failed for user "{user}"')

    def test_unknown_database(self):
        self.assert_rejected("alice", "nosuchdb", "wonder land", INVALID_CATALOG_NAME,
                             'database "nosuchdb" does not exist')

    def test_no_password(self):
        result = startup(self.server, "alice", harness.DATABASE, "")
        self.assertEqual(result[0], "error", result)
        self.assertEqual(result[1]["C"], INVALID_PASSWORD)


if __name__ == "__main__":
    harness.main()
