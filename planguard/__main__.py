from planguard.cli import main

raise SystemExit(main())
