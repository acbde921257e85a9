"""``python -m botarena``: the same as the ``botarena`` command."""

from botarena.cli import main

main()
