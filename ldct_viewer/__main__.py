from ldct_viewer.cli import main

raise SystemExit(main())
