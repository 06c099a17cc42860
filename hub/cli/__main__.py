"""``python -m hub.cli``: the ``bluepaid`` command, for processes that start another
(``bluepaid serve --with-worker``, ``bluepaid demo``) whatever the scripts folder is."""

import sys

from hub.cli import main

sys.exit(main())
