#!/usr/bin/python3
"""sqllogictest runner: SQLite's sqllogictest format against a PostgreSQL-protocol server.

    slt.py [--host H] [--port P] [--user U] [--admin-db D] [--file-filter RE]
           [--max-failures-shown N] [-v] FILE|DIR...

Each file runs in a database of its own: the runner connects to the admin
database, CREATE DATABASE slt_<name>_<pid>, runs every record of the file on
one autocommit connection to it, then DROP DATABASE. A directory stands for
the *.test files in it. A record that fails is reported (file, line, SQL, a
short diff) and the file goes on; the exit status is 0 only when no record
failed in any file (and 2 on a usage or connection error before any record).

Format (the corpus's own documentation, sqllogictest's about.wiki; records
are separated by blank lines, `#` starts a comment line, CRLF is accepted):

    statement ok | statement error        SQL lines follow; error = any error
    query <types> <sort> [label]          SQL lines, then `----` and the
                                          expected values, one per line
    hash-threshold N                      results of more than N values are
                                          written `K values hashing to MD5`
    halt                                  the rest of the file is ignored
    skipif ENGINE | onlyif ENGINE         conditions on the next record; this
                                          runner's engine is `postgresql`

Values are rendered the way sqllogictest renders SQLite's values (the corpus's
expected results are SQLite's), starting from the text the server sends:

    NULL            -> NULL
    boolean         -> 1 or 0 (SQLite has no booleans), then as below
    I  integer      -> the integer; a number with a fraction is truncated
                       toward zero, other text takes its leading integer or
                       0 (SQLite's text-to-integer conversion)
    R  real         -> printf("%.3f"), text by its numeric prefix or 0.000
    T  text         -> the text, "(empty)" for '', every UTF-8 byte
                       outside 0x20..0x7e replaced by '@'

`rowsort` sorts the rendered rows (column by column, byte order),
`valuesort` sorts every value on its own, `nosort` keeps the server's order.
The MD5 is taken over the sorted values, each followed by "\\n". A label
names a result that every query with the same label in the file must
reproduce (compared by that hash).
"""

import argparse
import decimal
import hashlib
import os
import re
import sys
import time

import psycopg2
import psycopg2.extensions

ENGINE = "postgresql"
HASH_LINE = re.compile(r"^(\d+) values hashing to ([0-9a-f]{32})$")
INT_PREFIX = re.compile(r"^\s*[+-]?\d+")
REAL_PREFIX = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
BOOL_OID = 16
BOOL_TEXT = {"t": "1", "f": "0"}  # SQLite has no booleans: true is 1
DIFF_LINES = 6
PASS, FAIL, SKIP = "pass", "FAIL", "skip"

# Errors by which PostgreSQL 15 rejects SQL whose expected result in the
# corpus is SQLite's, in records not marked `skipif postgresql`. A record
# ending in exactly one of these (SQLSTATE and primary message) counts as
# skipped, not failed: a server that mirrors PostgreSQL must raise it too,
# and the corpus files cannot be edited (they are read in place).
#   + text: SQLite's unary plus leaves a text value as it is, and the I
#   column then renders it as 0; PostgreSQL has no prefix + for text.
DIVERGENCES = {
    ("42883", "operator does not exist: + text"): "unary + on text (SQLite only)",
}


class Record:
    """One record of a file. kind: statement, query, hash-threshold, halt.
    conditions: (skipif|onlyif, engine) pairs that apply to it."""

    def __init__(self, kind, line, conditions):
        self.kind = kind
        self.line = line
        self.conditions = conditions
        self.sql = ""
        self.expect_error = False
        self.types = ""
        self.sort = "nosort"
        self.label = None
        self.expected = None  # list of lines after ----, None without ----
        self.threshold = 0

    def applies(self, engine):
        for cond, name in self.conditions:
            if (cond == "skipif") == (name == engine):
                return False
        return True


class FormatError(Exception):
    """A file that is not in sqllogictest format; the message names file:line."""


def _read_block(lines, i, stop=None):
    """Lines from index i up to a blank line (or `stop`); returns (block, next i)."""
    block = []
    while i < len(lines) and lines[i].strip() != "" and lines[i] != stop:
        block.append(lines[i])
        i += 1
    return block, i


def _parse_header(words, rec, path, lineno):
    """Fills the fields that the record's first line gives."""
    if rec.kind == "statement":
        if len(words) < 2 or words[1] not in ("ok", "error"):
            raise FormatError(f"{path}:{lineno}: statement must be followed by ok or error")
        rec.expect_error = words[1] == "error"
    elif rec.kind == "query":
        if len(words) < 2 or not re.fullmatch(r"[ITR]+", words[1]):
            raise FormatError(f"{path}:{lineno}: query needs type letters from I, T, R")
        rec.types = words[1]
        rec.sort = words[2] if len(words) > 2 else "nosort"
        if rec.sort not in ("nosort", "rowsort", "valuesort"):
            raise FormatError(f"{path}:{lineno}: unknown sort mode {rec.sort!r}")
        rec.label = words[3] if len(words) > 3 else None
    elif rec.kind == "hash-threshold":
        if len(words) != 2 or not words[1].isdigit():
            raise FormatError(f"{path}:{lineno}: hash-threshold needs a number")
        rec.threshold = int(words[1])


def _parse_record(lines, i, path):
    """The record starting at lines[i] (conditions included); returns (record, next i)."""
    conditions = []
    while True:
        words = lines[i].split("#", 1)[0].split()
        if words[0] not in ("skipif", "onlyif"):
            break
        if len(words) < 2:
            raise FormatError(f"{path}:{i + 1}: {words[0]} needs an engine name")
        conditions.append((words[0], words[1]))
        i += 1
        if i == len(lines) or not lines[i].strip() or lines[i].lstrip().startswith("#"):
            raise FormatError(f"{path}:{i}: condition without a record")
    if words[0] not in ("statement", "query", "hash-threshold", "halt"):
        raise FormatError(f"{path}:{i + 1}: unknown record {words[0]!r}")
    rec = Record(words[0], i + 1, conditions)
    _parse_header(words, rec, path, i + 1)
    i += 1
    if rec.kind in ("statement", "query"):
        sql, i = _read_block(lines, i, stop="----" if rec.kind == "query" else None)
        rec.sql = "\n".join(sql)
        if rec.kind == "query" and i < len(lines) and lines[i] == "----":
            rec.expected, i = _read_block(lines, i + 1)
    return rec, i


def parse_file(path):
    """Every record of the file at `path`, in order. Raises FormatError."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")  # not splitlines(): \f or \x1c may be data
    records = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        rec, i = _parse_record(lines, i, path)
        records.append(rec)
    return records


def _render_int(text):
    try:
        return str(int(text))
    except ValueError:
        pass
    try:
        number = decimal.Decimal(text)
        if number.is_finite():
            return str(int(number))
    except decimal.InvalidOperation:
        pass
    m = INT_PREFIX.match(text)
    return str(int(m.group(0))) if m else "0"


def _render_real(text):
    try:
        value = float(text)
    except ValueError:
        m = REAL_PREFIX.match(text)
        value = float(m.group(0)) if m else 0.0
    return "%.3f" % value


def render_value(text, letter):
    """The sqllogictest rendering of one value the server sent as `text` (None = NULL)."""
    if text is None:
        return "NULL"
    if letter == "I":
        return _render_int(text)
    if letter == "R":
        return _render_real(text)
    if text == "":
        return "(empty)"
    return NOT_PRINTABLE.sub(lambda m: "@" * len(m.group(0).encode("utf-8")), text)


def hash_line(values):
    """sqllogictest's `N values hashing to MD5` for a list of rendered values."""
    md5 = hashlib.md5()
    for v in values:
        md5.update(v.encode("utf-8"))
        md5.update(b"\n")
    return f"{len(values)} values hashing to {md5.hexdigest()}"


def result_values(rows, rec, bool_columns=()):
    """The rendered, sorted values of a query's rows (server text or None),
    one list; the columns in `bool_columns` hold PostgreSQL booleans."""
    if bool_columns:
        rows = [[BOOL_TEXT.get(v, v) if c in bool_columns else v for c, v in enumerate(row)] for row in rows]
    rendered = [[render_value(v, rec.types[c]) for c, v in enumerate(row)] for row in rows]
    if rec.sort == "rowsort":
        rendered.sort()
    values = [v for row in rendered for v in row]
    if rec.sort == "valuesort":
        values.sort()
    return values


def _raw_text_caster(value, cursor):
    """psycopg2 typecaster that keeps the server's text."""
    return value


def _connect(args, dbname):
    """A new autocommit connection that returns every column as the server's
    text (None for NULL): rendering works from the exact text, not from a
    Python float or Decimal. The caller closes it."""
    conn = psycopg2.connect(host=args.host, port=args.port, user=args.user, dbname=dbname, connect_timeout=10)
    conn.autocommit = True
    for oid in list(psycopg2.extensions.string_types):
        raw = psycopg2.extensions.new_type((oid,), f"SLT_RAW_{oid}", _raw_text_caster)
        psycopg2.extensions.register_type(raw, conn)
    return conn


class Failure:
    """What went wrong at one line of a file, with the SQL and a short diff."""

    def __init__(self, path, line, sql, reason, diff=()):
        self.path = path
        self.line = line
        self.sql = sql
        self.reason = reason
        self.diff = list(diff)

    def show(self, out):
        out.write(f"FAIL {self.path}:{self.line}: {self.reason}\n")
        for line in self.sql.splitlines():
            out.write(f"    {line}\n")
        for line in self.diff:
            out.write(f"  {line}\n")


def _diff(expected, actual):
    """A short expected/actual listing from the first differing line."""
    first = 0
    while first < min(len(expected), len(actual)) and expected[first] == actual[first]:
        first += 1
    out = [f"(first difference at value {first + 1}; expected {len(expected)} values, got {len(actual)})"]
    out += [f"- {line}" for line in expected[first:first + DIFF_LINES]]
    out += [f"+ {line}" for line in actual[first:first + DIFF_LINES]]
    return out


class FileRun:
    """The state of one file's run: its connection, threshold, labels, counts.
    Each record ends as PASS, FAIL or SKIP (a condition, or a DIVERGENCES error)."""

    def __init__(self, path, conn, verbose=False):
        self.path = path
        self.conn = conn
        self.verbose = verbose
        self.threshold = 0
        self.labels = {}  # label -> (hash line, line of the first query)
        self.counts = {PASS: 0, FAIL: 0, SKIP: 0}
        self.failures = []
        self.divergent = {}  # DIVERGENCES reason -> records skipped for it

    def fail(self, rec, reason, diff=()):
        self.failures.append(Failure(self.path, rec.line, rec.sql, reason, diff))
        return FAIL

    def _outcome_of_error(self, rec, error):
        divergence = DIVERGENCES.get((error.pgcode, error.diag.message_primary))
        if divergence:
            self.divergent[divergence] = self.divergent.get(divergence, 0) + 1
            return SKIP
        return self.fail(rec, f"{rec.kind} failed", [_error_text(error)])

    def run_statement(self, rec):
        try:
            with self.conn.cursor() as cur:
                cur.execute(rec.sql)
        except psycopg2.Error as e:
            return PASS if rec.expect_error else self._outcome_of_error(rec, e)
        if rec.expect_error:
            return self.fail(rec, "statement succeeded but an error was expected")
        return PASS

    def run_query(self, rec):
        try:
            with self.conn.cursor() as cur:
                cur.execute(rec.sql)
                if cur.description is None:
                    return self.fail(rec, "query returned no result set")
                ncols = len(cur.description)
                bools = {c for c, d in enumerate(cur.description) if d.type_code == BOOL_OID}
                rows = cur.fetchall()
        except psycopg2.Error as e:
            return self._outcome_of_error(rec, e)
        if ncols != len(rec.types):
            return self.fail(rec, f"query returned {ncols} columns, the record says {len(rec.types)}")
        values = result_values(rows, rec, bools)
        outcome = self._check_expected(rec, values)
        return self._check_label(rec, values) if outcome == PASS else outcome

    def _check_expected(self, rec, values):
        """Compares with the lines after ----: a hash line as a hash (even
        below the threshold: the corpus was generated with sqllogictest's -ht
        option, so a file may give hashes without a hash-threshold record),
        values one by one unless the result is over the threshold."""
        if rec.expected is None:
            return PASS
        hashed = len(rec.expected) == 1 and HASH_LINE.match(rec.expected[0])
        if hashed or (self.threshold and len(values) > self.threshold):
            actual = [hash_line(values)]
        else:
            actual = values
        if actual == rec.expected:
            return PASS
        diff = _diff(rec.expected, actual)
        if hashed and values:
            shown = values[:DIFF_LINES * 2]
            diff.append("got: " + " ".join(shown) + (" ..." if len(values) > len(shown) else ""))
        return self.fail(rec, "wrong result", diff)

    def _check_label(self, rec, values):
        if rec.label is None:
            return PASS
        digest = hash_line(values)
        first = self.labels.setdefault(rec.label, (digest, rec.line))
        if first[0] == digest:
            return PASS
        return self.fail(rec, f"result differs from label {rec.label} at line {first[1]}",
                         [f"- {first[0]}", f"+ {digest}"])

    def run(self, records):
        """Runs records until the end or a halt, or until the connection is lost."""
        for n, rec in enumerate(records):
            if not rec.applies(ENGINE):
                if rec.kind in ("statement", "query"):
                    self.counts[SKIP] += 1
                continue
            if rec.kind == "halt":
                return
            if rec.kind == "hash-threshold":
                self.threshold = rec.threshold
                continue
            outcome = self.run_statement(rec) if rec.kind == "statement" else self.run_query(rec)
            self.counts[outcome] += 1
            if self.verbose:
                print(f"{outcome} {self.path}:{rec.line}", file=sys.stderr)
            if self.conn.closed:
                self._abandon(records[n + 1:])
                return

    def _abandon(self, rest):
        """The server went away: every record left counts as failed."""
        left = [r for r in rest if r.kind in ("statement", "query") and r.applies(ENGINE)]
        if left:
            self.fail(left[0], f"connection lost; this and {len(left) - 1} later records were not run")
            self.counts[FAIL] += len(left)


def _error_text(e):
    primary = e.diag.message_primary or (str(e).strip().splitlines() or [type(e).__name__])[0]
    return f"{e.pgcode or 'no SQLSTATE'}: {primary}"


def _db_name(path):
    base = re.sub(r"[^a-z0-9_]", "_", os.path.basename(path).lower())
    return f"slt_{base[:40]}_{os.getpid()}"


def _setup_failure(path, step, error):
    """A FileRun for a file whose database could not be made or reached."""
    state = FileRun(path, None)
    state.counts[FAIL] = 1
    state.failures.append(Failure(path, 0, step, "cannot run the file", [_error_text(error)]))
    return state


def run_file(path, records, args, admin):
    """Runs a file's records in a database of its own; returns its FileRun."""
    dbname = _db_name(path)
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {dbname}")
            cur.execute(f"CREATE DATABASE {dbname}")
    except psycopg2.Error as e:
        return _setup_failure(path, f"CREATE DATABASE {dbname}", e)
    try:
        conn = _connect(args, dbname)
    except psycopg2.Error as e:
        return _setup_failure(path, f"connect to {dbname}", e)
    try:
        state = FileRun(path, conn, args.verbose)
        state.run(records)
    finally:
        conn.close()
    try:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {dbname}")
    except psycopg2.Error as e:
        state.counts[FAIL] += 1
        state.failures.append(Failure(path, 0, f"DROP DATABASE {dbname}", "cannot drop the file's database",
                                      [_error_text(e)]))
    return state


def collect_files(paths, pattern):
    """The files named or inside the directories named, filtered by the regex."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, n) for n in os.listdir(p) if n.endswith(".test"))
        else:
            files.append(p)
    if pattern:
        rx = re.compile(pattern)
        files = [f for f in files if rx.search(f)]
    return files


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PGPORT", "5432")))
    p.add_argument("--user", default=os.environ.get("PGUSER", "root"))
    p.add_argument("--admin-db", default=os.environ.get("PGDATABASE", "defaultdb"),
                   help="database to connect to for CREATE/DROP DATABASE")
    p.add_argument("--max-failures-shown", type=int, default=10, help="failures printed in full (all files)")
    p.add_argument("--file-filter", help="run only files whose path matches this regular expression")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per record on stderr")
    p.add_argument("paths", nargs="*", metavar="FILE|DIR")
    return p.parse_args(argv)


def _report_line(name, run, passed, failed, skipped, seconds):
    return f"{name:<44} {run:>7} {passed:>7} {failed:>7} {skipped:>7} {seconds:>8.1f}"


def _run_all(files, args, admin):
    """Runs every file, printing failures and one line per file; returns the failure count."""
    shown = hidden = 0
    totals = [0, 0, 0, 0]
    began = time.monotonic()
    print(f"{'file':<44} {'run':>7} {'passed':>7} {'failed':>7} {'skipped':>7} {'seconds':>8}")
    for path in files:
        start = time.monotonic()
        try:
            records = parse_file(path)
        except (OSError, FormatError) as e:
            print(f"FAIL {e} (file not run; counts as one failed record)")
            totals[0] += 1
            totals[2] += 1
            continue
        state = run_file(path, records, args, admin)
        room = max(0, args.max_failures_shown - shown)
        for f in state.failures[:room]:
            f.show(sys.stdout)
        shown += min(room, len(state.failures))
        hidden += max(0, len(state.failures) - room)
        c = state.counts
        counts = [c[PASS] + c[FAIL], c[PASS], c[FAIL], c[SKIP]]
        totals = [t + n for t, n in zip(totals, counts)]
        print(_report_line(os.path.basename(path), *counts, time.monotonic() - start), flush=True)
        for reason, n in state.divergent.items():
            print(f"    {n} of the skipped: PostgreSQL rejects {reason}")
    print(_report_line("TOTAL", *totals, time.monotonic() - began))
    if hidden:
        print(f"({hidden} more failures not shown; see --max-failures-shown)")
    return totals[2]


def run(args):
    """Runs what parse_args() returned; returns the exit status."""
    files = collect_files(args.paths, args.file_filter)
    if not files:
        print("slt.py: no files to run", file=sys.stderr)
        return 2
    try:
        admin = _connect(args, args.admin_db)
    except psycopg2.Error as e:
        print(f"slt.py: cannot connect to {args.host}:{args.port}: {str(e).strip()}", file=sys.stderr)
        return 2
    try:
        failed = _run_all(files, args, admin)
    finally:
        admin.close()
    return 0 if failed == 0 else 1


def main(argv):
    """Runs the command line `argv` (without the program name); returns the exit status."""
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
