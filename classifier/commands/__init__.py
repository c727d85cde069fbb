"""Subcommands of the painclf command line, one module per group."""
