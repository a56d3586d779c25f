import sys

from restbeat.cli import main

sys.exit(main())
