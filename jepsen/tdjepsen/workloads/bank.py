"""Bank: transfers between a few accounts and reads of every balance.

A transfer reads both balances and writes back computed values (not
`balance = balance - x`), so an isolation level that allows lost updates
creates or destroys money. A transfer that would overdraw fails.
"""

import random
import threading

from ..history import FAIL, OK

ACCOUNTS = 5
INITIAL_BALANCE = 20
MAX_AMOUNT = 5


class Bank:
    name = "bank"

    def __init__(self, options, upsert):
        self._rng = random.Random()
        self._lock = threading.Lock()

    def setup(self, cursor):
        cursor.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)")
        for account in range(ACCOUNTS):
            cursor.execute("INSERT INTO accounts VALUES (%s, %s)", (account, INITIAL_BALANCE))

    def generate(self):
        with self._lock:
            if self._rng.random() < 0.4:
                return "read", None
            src, dst = self._rng.sample(range(ACCOUNTS), 2)
            return "transfer", {"from": src, "to": dst, "amount": self._rng.randint(1, MAX_AMOUNT)}

    def _balance(self, cursor, account):
        cursor.execute("SELECT balance FROM accounts WHERE id = %s", (account,))
        return cursor.fetchone()[0]

    def invoke(self, cursor, f, value):
        if f == "read":
            cursor.execute("SELECT id, balance FROM accounts")
            return OK, {str(account): balance for account, balance in cursor.fetchall()}
        src, dst, amount = value["from"], value["to"], value["amount"]
        src_balance, dst_balance = self._balance(cursor, src), self._balance(cursor, dst)
        if src_balance < amount:
            return FAIL, value
        cursor.execute("UPDATE accounts SET balance = %s WHERE id = %s", (src_balance - amount, src))
        cursor.execute("UPDATE accounts SET balance = %s WHERE id = %s", (dst_balance + amount, dst))
        return OK, value

    def may_write(self, f):
        return f == "transfer"

    def final_ops(self):
        return [("read", None)]

    def checker_options(self):
        return {"total": ACCOUNTS * INITIAL_BALANCE}
