"""Workloads: what clients ask of the database and how, in SQL.

A workload is constructed with the run's options and whether the database
has INSERT ... ON CONFLICT (`upsert`); without it, writes to a row that may
not exist yet run UPDATE, then INSERT when no row matched (two racing
inserts of a new key: one fails with 23505, a `fail` that took no effect).
The object is shared by every client thread and provides:
  setup(cursor)            create its tables (runs once, autocommitted)
  generate()               the next (f, value) to invoke; thread-safe
  invoke(cursor, f, value) run it inside the open transaction and return
                           (ok|fail, completion value); database errors
                           propagate to client.execute, which classifies them
  may_write(f)             whether an op of kind f can change the database
  final_ops()              (f, value) ops to run once after the clients stop
  checker_options()        keywords for the workload's checker
The names match the checkers in tdjepsen.checkers.
"""

from .append import Append
from .bank import Bank
from .register import Register
from .set import Set

WORKLOADS = {"append": Append, "bank": Bank, "register": Register, "set": Set}
