"""planguard's built-in checks, one module per check (installed as planguard.checks)."""
