from openturk.cli import main

raise SystemExit(main())
