"""``python -m c360.shells.cli``: the ``c360`` command without its installed script."""

from c360.shells.cli import main

main()
