"""Tardigrade's Jepsen-style harness: histories, workloads, checkers, runner.

Layers, each importable on its own:
  history    the JSON-lines history format (read, write, pair invoke/complete)
  graph      transaction dependency graphs, SCCs and anomaly cycles
  checkers   one verdict function per workload, usable on any history file
  workloads  operation generators and SQL clients for each workload
  db         adapters that start, connect to and stop a database under test
  runner     drives clients against a db and writes a results directory
"""
