"""The load harness behind scripts/bench: peers, load runs, memory, instruction counts, report."""
