"""``python -m emulator serve``."""
from .cli import main

raise SystemExit(main())
