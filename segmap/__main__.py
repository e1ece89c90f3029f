import sys

from segmap.cli.main import main

sys.exit(main())
