"""The ``redflag`` command line: one module per subcommand, work done in plain functions."""
