"""`python -m python_checks` is the same as the `privacy-guard` console script."""

from python_checks.cli import main

raise SystemExit(main())
