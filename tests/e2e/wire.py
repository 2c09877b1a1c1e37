"""A minimal PostgreSQL v3 protocol client for what drivers do not expose.

libpq and psycopg2 hide some of the protocol: the SQLSTATE of a FATAL
during startup, Execute with a row limit (PortalSuspended), Describe of a
portal, messages a driver would never send. This client speaks the wire
format directly (docs/pgwire.md has the byte tables): StartupMessage, then
trust, a cleartext password or SCRAM-SHA-256 (RFC 5802/7677 as PostgreSQL
does it, without channel binding), then raw frontend messages.

Messages come back as (type, body) with type a one-character str; helpers
decode the bodies the tests look at.
"""

import base64
import hashlib
import hmac
import os
import socket
import struct

PROTOCOL_3_0 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


class WireError(Exception):
    """The server sent an ErrorResponse where the client expected success."""

    def __init__(self, fields):
        super().__init__(f"{fields.get('C')}: {fields.get('M')}")
        self.fields = fields


def error_fields(body):
    """ErrorResponse/NoticeResponse body -> {"S": ..., "C": ..., "M": ...}."""
    return {f[:1].decode(): f[1:].decode() for f in body.split(b"\0") if f}


def cstr(s):
    return s.encode() + b"\0"


class _Scram:
    def __init__(self, password):
        self.password = password.encode()
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n=,r={self.nonce}"

    def first(self):
        return ("n,," + self.first_bare).encode()

    def final(self, server_first):
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        if not attrs["r"].startswith(self.nonce):
            raise ValueError("server nonce does not extend ours")
        salted = hashlib.pbkdf2_hmac("sha256", self.password, base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        without_proof = f"c=biws,r={attrs['r']}"
        self.auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(hashlib.sha256(client_key).digest(), self.auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_key = hmac.digest(salted, b"Server Key", "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final):
        expected = hmac.digest(self.server_key, self.auth_message, "sha256")
        return server_final == "v=" + base64.b64encode(expected).decode()


class Client:
    """One connection. Use as a context manager; close() drops the socket."""

    def __init__(self, server, timeout=30):
        self.sock = socket.create_connection((server.host, server.port), timeout=timeout)
        self.mechanism = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return buf

    def recv(self):
        kind, length = struct.unpack("!cI", self._recv_exact(5))
        return kind.decode(), self._recv_exact(length - 4)

    def send(self, kind, body=b""):
        self.sock.sendall(kind.encode() + struct.pack("!I", len(body) + 4) + body)

    def ssl_request(self, code=SSL_REQUEST):
        """Sends SSLRequest (or GSSENCRequest); the server's one-byte answer."""
        self.sock.sendall(struct.pack("!II", 8, code))
        return self._recv_exact(1)

    def startup(self, user, database, password="", version=PROTOCOL_3_0, options=()):
        """Authenticates; returns the messages up to ReadyForQuery. Raises
        WireError with the fields of an ErrorResponse. `options` are extra
        (name, value) startup parameters."""
        params = cstr("user") + cstr(user) + cstr("database") + cstr(database)
        params += b"".join(cstr(n) + cstr(v) for n, v in options) + b"\0"
        self.sock.sendall(struct.pack("!II", len(params) + 8, version) + params)
        self.mechanism, scram, seen = "trust", None, []
        while True:
            kind, body = self.recv()
            seen.append((kind, body))
            if kind == "E":
                raise WireError(error_fields(body))
            if kind == "Z":
                return seen
            if kind == "R":
                scram = self._auth_step(body, password, scram)

    def _auth_step(self, body, password, scram):
        (code,) = struct.unpack("!I", body[:4])
        if code == 3:
            self.mechanism = "cleartext"
            self.send("p", cstr(password))
        elif code == 10:
            offered = [m.decode() for m in body[4:].split(b"\0") if m]
            if "SCRAM-SHA-256" not in offered:
                raise AssertionError(f"SASL mechanisms {offered}")
            self.mechanism, scram = "SCRAM-SHA-256", _Scram(password)
            first = scram.first()
            self.send("p", cstr("SCRAM-SHA-256") + struct.pack("!I", len(first)) + first)
        elif code == 11:
            self.send("p", scram.final(body[4:].decode()))
        elif code == 12:
            if not scram.verify(body[4:].decode()):
                raise AssertionError("server signature does not verify")
        elif code != 0:
            raise AssertionError(f"unexpected authentication request {code}")
        return scram

    def until(self, last="Z"):
        """Messages up to and including the first of type `last`; notices
        and ParameterStatus are dropped."""
        out = []
        while True:
            kind, body = self.recv()
            if kind in ("N", "S"):
                continue
            out.append((kind, body))
            if kind == last:
                return out

    # Frontend messages of the extended protocol (text formats only).

    def parse(self, name, sql, oids=()):
        self.send("P", cstr(name) + cstr(sql) + struct.pack(f"!H{len(oids)}I", len(oids), *oids))

    def bind(self, portal, stmt, params=()):
        body = cstr(portal) + cstr(stmt) + struct.pack("!HH", 0, len(params))
        for p in params:
            body += struct.pack("!i", -1) if p is None else struct.pack("!I", len(p.encode())) + p.encode()
        self.send("B", body + struct.pack("!H", 0))

    def describe(self, what, name):
        self.send("D", what.encode() + cstr(name))

    def execute(self, portal, max_rows=0):
        self.send("E", cstr(portal) + struct.pack("!I", max_rows))

    def close_(self, what, name):
        self.send("C", what.encode() + cstr(name))

    def sync(self):
        self.send("S")

    def flush(self):
        self.send("H")

    def query(self, sql):
        self.send("Q", cstr(sql))


def data_row(body):
    """DataRow body -> list of str/None."""
    (n,) = struct.unpack("!H", body[:2])
    out, pos = [], 2
    for _ in range(n):
        (length,) = struct.unpack("!i", body[pos:pos + 4])
        pos += 4
        if length < 0:
            out.append(None)
        else:
            out.append(body[pos:pos + length].decode())
            pos += length
    return out


def row_description(body):
    """RowDescription body -> [(name, type oid, format)]."""
    (n,) = struct.unpack("!H", body[:2])
    out, pos = [], 2
    for _ in range(n):
        end = body.index(b"\0", pos)
        name = body[pos:end].decode()
        _table, _col, oid, _size, _mod, fmt = struct.unpack("!IHIhiH", body[end + 1:end + 19])
        out.append((name, oid, fmt))
        pos = end + 19
    return out


def parameter_description(body):
    (n,) = struct.unpack("!H", body[:2])
    return list(struct.unpack(f"!{n}I", body[2:2 + 4 * n]))


def command_tag(body):
    return body.rstrip(b"\0").decode()
