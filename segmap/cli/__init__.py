"""The `segmap` command line. Each sub-command lives in its own `cmd_*.py`
module with `register(subparsers)`; heavy imports happen inside the
command's handler so that `segmap check` stays fast to start."""
