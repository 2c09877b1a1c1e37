#!/usr/bin/python3
"""Extended-protocol details that drivers use but libpq does not expose.

With the raw client of wire.py: Execute with a row limit and
PortalSuspended (what JDBC's fetch size does), Describe of statements and
portals, Close, Flush, discard-until-Sync after an error and the
ReadyForQuery status that follows, EmptyQueryResponse, SSLRequest and
GSSENCRequest refused with 'N', NegotiateProtocolVersion for protocol 3.1
and _pq_ options, and the fate of a connection that sends garbage (08P01,
closed; other sessions go on).
"""

import struct

import harness
import wire


def kinds(msgs):
    return "".join(k for k, _ in msgs)


class ProtocolTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.server.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE p (k int PRIMARY KEY, v text)")
            cur.execute("INSERT INTO p VALUES (1, 'a'), (2, 'b'), (3, NULL), (4, 'd'), (5, 'e')")

    def client(self):
        c = wire.Client(self.server)
        self.addCleanup(c.close)
        c.startup(self.server.user, self.server.dbname)
        return c

    def test_ssl_and_gssenc_requests_are_refused(self):
        codes = [wire.SSL_REQUEST]
        # Debian's PostgreSQL is built with GSSAPI and answers 'G'.
        if harness.target() == "tardigrade":
            codes.append(wire.GSSENC_REQUEST)
        for code in codes:
            with wire.Client(self.server) as c:
                self.assertEqual(c.ssl_request(code), b"N")
                c.startup(self.server.user, self.server.dbname)  # in plain text after 'N'
                c.query("SELECT 1")
                self.assertEqual(kinds(c.until("Z")), "TDCZ")

    def test_newer_minor_version_is_negotiated(self):
        with wire.Client(self.server) as c:
            msgs = c.startup(self.server.user, self.server.dbname, version=wire.PROTOCOL_3_0 + 1,
                             options=[("_pq_.nosuch", "on")])
            negotiate = [b for k, b in msgs if k == "v"]
            self.assertEqual(len(negotiate), 1, kinds(msgs))
            newest, n = struct.unpack("!II", negotiate[0][:8])
            self.assertEqual((newest, n), (wire.PROTOCOL_3_0, 1))
            self.assertEqual(negotiate[0][8:], b"_pq_.nosuch\0")

    def test_execute_row_limit_suspends_portal(self):
        c = self.client()
        c.parse("s", "SELECT k, v FROM p WHERE k >= $1 ORDER BY k")
        c.bind("cur", "s", ["1"])
        for _ in range(3):
            c.execute("cur", 2)
        c.sync()
        msgs = c.until("Z")
        self.assertEqual(kinds(msgs), "12DDsDDsDCZ")
        rows = [wire.data_row(b) for k, b in msgs if k == "D"]
        self.assertEqual(rows, [["1", "a"], ["2", "b"], ["3", None], ["4", "d"], ["5", "e"]])
        self.assertEqual(wire.command_tag(msgs[-2][1]), "SELECT 1")
        self.assertEqual(msgs[-1][1], b"I")
        # The portal ended with the implicit transaction at Sync.
        c.execute("cur", 0)
        c.sync()
        msgs = c.until("Z")
        self.assertEqual(kinds(msgs), "EZ")
        self.assertEqual(wire.error_fields(msgs[0][1])["C"], "34000")

    def test_describe_statement_and_portal(self):
        c = self.client()
        c.parse("sel", "SELECT v, k + 1 AS next FROM p WHERE k = $1")
        c.parse("ins", "INSERT INTO p VALUES ($1, $2)")
        c.describe("S", "sel")
        c.describe("S", "ins")
        c.bind("", "sel", ["2"])
        c.describe("P", "")
        c.execute("")
        c.sync()
        msgs = c.until("Z")
        self.assertEqual(kinds(msgs), "11tTtn2TDCZ")
        self.assertEqual(wire.parameter_description(msgs[2][1]), [23])
        self.assertEqual(wire.row_description(msgs[3][1]), [("v", 25, 0), ("next", 23, 0)])
        self.assertEqual(wire.parameter_description(msgs[4][1]), [23, 25])
        self.assertEqual(wire.row_description(msgs[7][1]), [("v", 25, 0), ("next", 23, 0)])
        self.assertEqual(wire.data_row(msgs[8][1]), ["b", "3"])
        self.assertEqual(wire.command_tag(msgs[9][1]), "SELECT 1")

    def test_close_and_flush(self):
        c = self.client()
        c.parse("gone", "SELECT 1")
        c.flush()
        self.assertEqual(c.recv()[0], "1")  # Flush sends what is pending without a Sync
        c.close_("S", "gone")
        c.bind("", "gone")
        c.sync()
        msgs = c.until("Z")
        self.assertEqual(kinds(msgs), "3EZ")
        fields = wire.error_fields(msgs[1][1])
        self.assertEqual((fields["C"], fields["M"]), ("26000", 'prepared statement "gone" does not exist'))

    def test_error_discards_until_sync(self):
        c = self.client()
        c.parse("", "SELECT 1 / k FROM p WHERE k = $1")
        c.bind("", "", ["zero"])
        c.describe("P", "")
        c.execute("")
        c.sync()
        msgs = c.until("Z")
        self.assertEqual(kinds(msgs), "1EZ")
        self.assertEqual(wire.error_fields(msgs[1][1])["C"], "22P02")
        self.assertEqual(msgs[-1][1], b"I")
        c.bind("", "", ["2"])  # the unnamed statement survived the error
        c.execute("")
        c.sync()
        msgs = c.until("Z")
        self.assertEqual(kinds(msgs), "2DCZ")
        self.assertEqual(wire.data_row(msgs[1][1]), ["0"])

    def test_error_inside_transaction_block(self):
        c = self.client()
        c.query("BEGIN")
        self.assertEqual(c.until("Z")[-1][1], b"T")
        c.parse("", "SELECT k / 0 FROM p WHERE k = 1")
        c.bind("", "")
        c.execute("")
        c.sync()
        msgs = c.until("Z")
        self.assertEqual(kinds(msgs), "12EZ")
        self.assertEqual(msgs[-1][1], b"E")
        c.query("SELECT 1")
        msgs = c.until("Z")
        self.assertEqual(wire.error_fields(msgs[0][1])["C"], "25P02")
        c.query("ROLLBACK")
        msgs = c.until("Z")
        self.assertEqual(wire.command_tag(msgs[0][1]), "ROLLBACK")
        self.assertEqual(msgs[-1][1], b"I")

    def test_empty_queries(self):
        c = self.client()
        c.query("")
        self.assertEqual(kinds(c.until("Z")), "IZ")
        c.query("SELECT 1; ; SELECT 2")
        self.assertEqual(kinds(c.until("Z")), "TDCTDCZ")
        c.parse("", "")
        c.bind("", "")
        c.execute("")
        c.sync()
        self.assertEqual(kinds(c.until("Z")), "12IZ")

    def assert_closed_with_08P01(self, c):
        """Reads to EOF: the connection must close, and anything it says
        first must be a FATAL 08P01 (PostgreSQL closes some framing errors
        without a word)."""
        try:
            while True:
                kind, body = c.recv()
                if kind == "E":
                    fields = wire.error_fields(body)
                    self.assertEqual((fields["S"], fields["C"]), ("FATAL", "08P01"), fields)
        except ConnectionError:  # EOF or reset; a socket timeout fails the test
            pass

    def test_unknown_message_type_closes_connection(self):
        c = self.client()
        c.send("Z", b"")
        self.assert_closed_with_08P01(c)
        self.assertEqual(self.exec("SELECT v FROM p WHERE k = 1"), [("a",)])

    def test_oversized_message_closes_connection(self):
        c = self.client()
        c.sock.sendall(b"Q" + struct.pack("!I", 0x7FFFFFF0) + b"SELECT 1")
        self.assert_closed_with_08P01(c)
        self.assertEqual(self.exec("SELECT v FROM p WHERE k = 2"), [("b",)])


if __name__ == "__main__":
    harness.main()
